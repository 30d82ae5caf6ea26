import { describe, expect, it } from 'vitest';
import { InternedDocuments } from '../../src/ws/interned-documents.js';

// Which copy of a string is returned cannot be observed in JavaScript (strings compare by value); the heap
// snapshots in bench/README.md show the saving. These check what can be: the value and the bound.
describe('InternedDocuments', () => {
  it('answers each document unchanged, remembering each distinct one once', () => {
    const documents = new InternedDocuments();
    for (const text of ['subscription { a }', 'subscription { a }', 'subscription { b }']) expect(documents.intern(text)).toBe(text);
    expect(documents.size).toBe(2);
  });

  it('remembers at most its bound, forgetting the oldest first', () => {
    const documents = new InternedDocuments(2);
    for (const text of ['a', 'b', 'c', 'a']) expect(documents.intern(text)).toBe(text);
    expect(documents.size).toBe(2);
  });
});
