import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchedLookups } from '../../src/bus/batched-lookups.js';

/** A lookup that records each batch it is asked for and answers from `answers` (a key's answer, or an Error). */
function recordingLookup(answers: Record<string, boolean | Error>) {
  const batches: string[][] = [];
  const lookUp = async (keys: string[]) => {
    batches.push(keys);
    return keys.map((key) => answers[key] ?? false);
  };
  return { batches, lookUp };
}

describe('BatchedLookups', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks once per window for every key wanted in it, once per key, and answers each caller', async () => {
    vi.useFakeTimers();
    const { batches, lookUp } = recordingLookup({ a: true, b: false });
    const lookups = new BatchedLookups(lookUp, 100);
    const answers = Promise.all([lookups.get('a'), lookups.get('b'), lookups.get('a')]);
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await answers).toEqual([true, false, true]);
    expect(batches).toEqual([['a', 'b']]);
    // A key wanted after the round trip went out starts the next window.
    const later = lookups.get('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(await later).toBe(true);
    expect(batches).toEqual([['a', 'b'], ['a']]);
  });

  it("fails only the callers of a key whose own answer failed, and every caller when the round trip fails", async () => {
    vi.useFakeTimers();
    const { lookUp } = recordingLookup({ a: true, b: new Error('b failed') });
    const lookups = new BatchedLookups(lookUp, 10);
    const a = lookups.get('a');
    const b = lookups.get('b').catch((error: Error) => error.message);
    await vi.advanceTimersByTimeAsync(10);
    expect([await a, await b]).toEqual([true, 'b failed']);

    const broken = new BatchedLookups<string, boolean>(() => Promise.reject(new Error('connection lost')), 10);
    const both = Promise.allSettled([broken.get('a'), broken.get('b')]);
    await vi.advanceTimersByTimeAsync(10);
    expect((await both).map((outcome) => outcome.status === 'rejected' && (outcome.reason as Error).message)).toEqual(['connection lost', 'connection lost']);
  });
});
