import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { cursorOf, seqOfCursor } from '../../src/events/types.js';
import { afterSeq, checkCursor } from '../../src/schema/session-access.js';

/** The GraphQL error `run` throws (fails the test when it throws nothing, or something else). */
function thrown(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected an error');
}

describe('cursorOf / seqOfCursor', () => {
  it.each([0, 1, 2, 9, 10, 42, 1_000, 2_147_483_647, 999_999_999_999_999])('round-trips seq %i', (seq) => {
    const cursor = cursorOf(seq);
    expect(typeof cursor).toBe('string');
    expect(seqOfCursor(cursor)).toBe(seq);
  });

  it('gives distinct cursors for distinct seqs', () => {
    const cursors = Array.from({ length: 1_000 }, (_, seq) => cursorOf(seq));
    expect(new Set(cursors).size).toBe(1_000);
  });

  it.each([
    '',
    ' ',
    '-1',
    '+1',
    '01',
    '00',
    '1.5',
    '1.0',
    '1e3',
    ' 1',
    '1 ',
    '1\n',
    'abc',
    '0x10',
    'NaN',
    'Infinity',
    '１',
    '1234567890123456', // 16 digits: beyond what the gateway ever issues, and beyond exact doubles soon after
    '99999999999999999999',
  ])('refuses %j', (cursor) => {
    expect(seqOfCursor(cursor)).toBeUndefined();
  });
});

describe('afterSeq', () => {
  it('is undefined when the argument is absent or null', () => {
    expect(afterSeq(undefined)).toBeUndefined();
    expect(afterSeq(null)).toBeUndefined();
  });

  it('reads a cursor given as a string or as a number (GraphQL ID accepts both)', () => {
    expect(afterSeq('0')).toBe(0);
    expect(afterSeq('17')).toBe(17);
    expect(afterSeq(17)).toBe(17);
    expect(afterSeq(cursorOf(123_456))).toBe(123_456);
  });

  it.each(['', 'abc', '-1', '01', '1.5', 'channel:*', 1.5, -3])('refuses %j with INVALID_CURSOR naming the argument', (after) => {
    const error = thrown(() => afterSeq(after));
    expect(error.extensions).toMatchObject({ code: 'INVALID_CURSOR', argument: 'after' });
  });
});

describe('checkCursor', () => {
  const retained = { firstSeq: 5, lastSeq: 20 };

  it('accepts no cursor, whatever the history', () => {
    expect(() => checkCursor(retained, undefined)).not.toThrow();
    expect(() => checkCursor({ firstSeq: 0, lastSeq: 0 }, undefined)).not.toThrow();
  });

  it('accepts every cursor from just before the first retained event to the last event', () => {
    for (let after = retained.firstSeq - 1; after <= retained.lastSeq; after++) {
      expect(() => checkCursor(retained, after), `after ${after}`).not.toThrow();
    }
  });

  it('accepts cursor 0 of an untrimmed history', () => {
    expect(() => checkCursor({ firstSeq: 1, lastSeq: 3 }, 0)).not.toThrow();
  });

  it('refuses a cursor beyond the last event with INVALID_CURSOR', () => {
    for (const after of [21, 22, 1_000]) {
      expect(thrown(() => checkCursor(retained, after)).extensions).toMatchObject({ code: 'INVALID_CURSOR', argument: 'after' });
    }
    // An empty (or missing) session has issued no cursor but 0.
    expect(thrown(() => checkCursor({ firstSeq: 0, lastSeq: 0 }, 1)).extensions['code']).toBe('INVALID_CURSOR');
  });

  it('refuses a cursor whose following events are trimmed with CURSOR_EXPIRED, telling the first retained seq', () => {
    for (const after of [0, 1, 2, 3]) {
      const error = thrown(() => checkCursor(retained, after));
      expect(error.extensions).toEqual({ code: 'CURSOR_EXPIRED', firstRetainedSeq: 5 });
      expect(error.message).toContain(String(after));
    }
  });
});
