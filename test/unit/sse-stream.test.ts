import { describe, expect, it } from 'vitest';
import { sseStream } from '../../src/http/sse-stream.js';
import type { SessionEvent } from '../../src/events/types.js';
import type { FollowItem, FollowStream, LiveTaker } from '../../src/progress/follow-session.js';

const progress = (seq: number): SessionEvent => ({ sessionId: 's1', seq, timestamp: 1_000 + seq, ephemeral: false, event: { type: 'PROGRESS', percent: seq } });

/** A follower the test drives: it offers live events to its LiveTaker and answers `next()` when told to. */
function scriptedFollower() {
  let take: LiveTaker | undefined;
  const asked: ((result: IteratorResult<FollowItem>) => void)[] = [];
  const waiting: (() => void)[] = [];
  let returned = false;
  const stream: FollowStream = {
    handLiveTo: (taker) => void (take = taker),
    next: () =>
      new Promise((resolve) => {
        asked.push(resolve);
        waiting.splice(0).forEach((wake) => wake());
      }),
    return: async () => {
      returned = true;
      return { done: true, value: undefined };
    },
    throw: async (error) => Promise.reject(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    stream,
    offer: (event: SessionEvent) => take!.takeLive(event),
    /** Answers the stream's next `next()`, once it has asked. */
    async answer(result: IteratorResult<FollowItem>) {
      if (asked.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      asked.shift()!(result);
    },
    get returned() {
      return returned;
    },
  };
}

const decoder = new TextDecoder();

async function read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? '<closed>' : decoder.decode(value);
}

describe('sseStream', () => {
  it('sends live events as they arrive while the reader keeps up, then leaves them to the follower, in order', async () => {
    const follower = scriptedFollower();
    const reader = sseStream(follower.stream, new AbortController().signal, new AbortController().signal, (error) => {
      throw error;
    }).getReader();
    expect(await read(reader)).toContain('retry: 1000');
    expect(follower.offer(progress(2))).toBe(true);
    expect(await read(reader)).toMatch(/^id: .+\nevent: PROGRESS\ndata: .*"seq":2/);
    // The reader stops reading: one message fits the stream's queue; the next one is declined and stays with the
    // follower, which hands it out through next() (its pull).
    expect(follower.offer(progress(3))).toBe(true);
    expect(follower.offer(progress(4))).toBe(false);
    await follower.answer({ done: false, value: progress(4) });
    expect(await read(reader)).toContain('"seq":3');
    expect(await read(reader)).toContain('"seq":4');
    await follower.answer({ done: true, value: undefined });
    expect(await read(reader)).toContain('event: done');
    expect(await read(reader)).toBe('<closed>');
    expect(follower.returned).toBe(true);
  });

  it('declines live events once the stream has ended', async () => {
    const follower = scriptedFollower();
    const client = new AbortController();
    const reader = sseStream(follower.stream, new AbortController().signal, client.signal, () => {}).getReader();
    await read(reader);
    client.abort();
    expect(await read(reader)).toBe('<closed>');
    expect(follower.offer(progress(2))).toBe(false);
    expect(follower.returned).toBe(true);
  });
});
