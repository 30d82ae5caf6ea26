import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { EventLog, LiveFeed } from '../../src/bus/event-log.js';
import { createMemoryEventLog, type MemoryEventLogOptions } from '../../src/bus/memory.js';
import type { RawEvent, SessionEvent, SessionRef } from '../../src/events/types.js';
import { followSession, type FollowItem, type FollowOptions, type FollowStream } from '../../src/progress/follow-session.js';

const GUARD_MS = 5_000;

/** Rejects when `promise` has not settled within `ms`: a stuck-test guard, never a way to wait. */
function within<T>(promise: Promise<T>, what: string, ms = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Resolves after `n` turns of the event loop (setImmediate, which the fake timers below leave alone). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function memoryLog(options: Partial<MemoryEventLogOptions> = {}): EventLog {
  const log = createMemoryEventLog({ historyMaxEvents: 1_000, sessionTtlMs: 60_000, maxEventBytes: 65_536, maxPublishBatch: 100, idempotencyWindowMs: 60_000, ...options });
  onTestFinished(() => log.close());
  return log;
}

interface Observed {
  log: EventLog;
  /** listen calls that resolved, stop functions called, events handed to followers, read calls. */
  stats: { listening: number; stopped: number; delivered: number; reads: number };
  /** The resync callbacks followers registered, to play a pub/sub reconnect. */
  resyncs: (() => void)[];
  /** The feeds followers registered, to inject live-only events. */
  feeds: LiveFeed[];
}

/**
 * The log with its `listen` and `read` observed. `dropLive` simulates pub/sub losing messages on the way to the
 * follower; `beforeRead` runs before each read (e.g. to publish in the window between listen and the first read).
 */
function observe(
  inner: EventLog,
  { dropLive, beforeRead }: { dropLive?: (event: SessionEvent) => boolean; beforeRead?: (call: number) => Promise<void> } = {},
): Observed {
  const observed: Observed = { log: inner, stats: { listening: 0, stopped: 0, delivered: 0, reads: 0 }, resyncs: [], feeds: [] };
  observed.log = {
    ...inner,
    async read(ref, afterSeq, limit) {
      const call = ++observed.stats.reads;
      await beforeRead?.(call);
      return inner.read(ref, afterSeq, limit);
    },
    async listen(ref, feed) {
      const counted: LiveFeed = {
        push(event) {
          if (dropLive?.(event)) return;
          observed.stats.delivered++;
          feed.push(event);
        },
        resync: () => feed.resync?.(),
      };
      const stop = await inner.listen(ref, counted);
      observed.stats.listening++;
      observed.feeds.push(feed);
      if (feed.resync) observed.resyncs.push(() => feed.resync?.());
      let stopped = false;
      return () => {
        if (!stopped) observed.stats.stopped++;
        stopped = true;
        stop();
      };
    },
  };
  return observed;
}

async function newSession(log: EventLog, userId = 'alice'): Promise<SessionRef> {
  const ref = { userId, sessionId: `s-${randomUUID()}` };
  const result = await log.startSession(ref, { type: 'SESSION_STARTED' });
  expect(result.outcome).toBe('created');
  return ref;
}

const progress = (percent: number, requestId?: string): RawEvent => ({ type: 'PROGRESS', percent, ...(requestId ? { requestId } : {}) });

async function appendMany(log: EventLog, ref: SessionRef, count: number, requestId?: string): Promise<SessionEvent[]> {
  const logged = [];
  for (let i = 0; i < count; i++) logged.push(await log.append(ref, progress(i % 101, requestId)));
  return logged;
}

type Follower = FollowStream;

function follow(log: EventLog, ref: SessionRef, options: Partial<FollowOptions> = {}): Follower {
  const iterator = followSession(log, ref, { pageSize: 3, maxBuffered: 1_000, idleCheckMs: 60_000, ...options });
  onTestFinished(async () => {
    await iterator.return?.();
  });
  return iterator;
}

/** The next item, which must be an event. */
async function nextEvent(follower: Follower): Promise<SessionEvent> {
  const result = await within(follower.next(), 'the next event');
  if (result.done) throw new Error('the follower ended');
  if ('error' in result.value) throw new Error(`the follower failed: ${result.value.error.message}`);
  return result.value;
}

async function nextEvents(follower: Follower, count: number): Promise<SessionEvent[]> {
  const events = [];
  for (let i = 0; i < count; i++) events.push(await nextEvent(follower));
  return events;
}

async function nextError(follower: Follower): Promise<GraphQLError> {
  const result = await within(follower.next(), 'an error');
  if (result.done || !('error' in result.value)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.value.error;
}

async function expectDone(follower: Follower) {
  await expect(within(follower.next(), 'the end')).resolves.toEqual({ done: true, value: undefined });
}

const seqs = (events: SessionEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

afterEach(() => {
  vi.useRealTimers();
});

/** An observer that writes down what it is told, as `opened`, `<source> <seq>`, `closed`. */
function recorder() {
  const told: string[] = [];
  const observer: FollowOptions['observer'] = {
    opened: () => told.push('opened'),
    delivered: (event, source) => told.push(`${source} ${event.seq}`),
    closed: () => told.push('closed'),
  };
  return { told, observer };
}

describe('followSession: replay, then live', () => {
  it('replays the retained history across pages, then continues live, each event once in seq order', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    await appendMany(log, ref, 7); // seq 2..8: three pages of 3
    const follower = follow(log, ref);
    const replayed = await nextEvents(follower, 8);
    expect(seqs(replayed)).toEqual(range(1, 8));
    expect(replayed[0]!.event).toEqual({ type: 'SESSION_STARTED' });

    const pending = nextEvent(follower);
    const published = await log.append(ref, progress(50));
    expect(await pending).toEqual(published);
    await appendMany(log, ref, 2);
    expect(seqs(await nextEvents(follower, 2))).toEqual([10, 11]);
  });

  it('resumes right after a cursor', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    await appendMany(log, ref, 5); // seq 2..6
    const follower = follow(log, ref, { afterSeq: 4 });
    expect(seqs(await nextEvents(follower, 2))).toEqual([5, 6]);
    await log.append(ref, progress(1));
    expect((await nextEvent(follower)).seq).toBe(7);
  });

  it('delivers an event published between listen and the first history read exactly once', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    // The event is both on the live feed (the follower already listens) and in the history it is about to read.
    const { log } = observe(inner, { beforeRead: async (call) => void (call === 1 && (await inner.append(ref, progress(42)))) });
    const follower = follow(log, ref);
    expect(seqs(await nextEvents(follower, 2))).toEqual([1, 2]);
    await inner.append(ref, progress(43));
    const third = await nextEvent(follower);
    expect(third.seq).toBe(3);
    expect(third.event).toEqual(progress(43));
  });

  it('fills a live event lost on the way (a jump in seq) from the history', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner, { dropLive: (event) => event.seq === 3 });
    const follower = follow(log, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    await appendMany(inner, ref, 3); // seq 2, 3 (lost live), 4
    expect(seqs(await nextEvents(follower, 3))).toEqual([2, 3, 4]);
    expect(stats.reads).toBeGreaterThan(1);
  });

  it('catches up from history when told to resync (pub/sub reconnected), even without a later event showing the gap', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, resyncs } = observe(inner, { dropLive: (event) => event.seq === 2 });
    const follower = follow(log, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    const pending = nextEvent(follower);
    await inner.append(ref, progress(5)); // seq 2, lost: nothing live reveals it
    expect(resyncs).toHaveLength(1);
    resyncs[0]!();
    expect((await pending).seq).toBe(2);
  });

  it('delivers a live-only event where it arrives, under the seq before it, without disturbing the durable order', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, feeds } = observe(inner);
    const follower = follow(log, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    await inner.append(ref, progress(1)); // seq 2
    feeds[0]!.push({ sessionId: ref.sessionId, seq: 0, timestamp: Date.now(), ephemeral: true, event: progress(99) });
    await inner.append(ref, progress(3)); // seq 3
    const events = await nextEvents(follower, 3);
    expect(events.map((e) => [e.seq, e.ephemeral, e.event['percent']])).toEqual([
      [2, false, 1],
      [2, true, 99],
      [3, false, 3],
    ]);
  });
});

describe('followSession: live events taken as they arrive (handLiveTo)', () => {
  /** A follower whose consumer takes live events while `accepting` says so, recording what it took. */
  function taking(log: EventLog, ref: SessionRef, options: Partial<FollowOptions> = {}) {
    const follower = follow(log, ref, options);
    const taken: SessionEvent[] = [];
    const consumer = { accepting: true };
    follower.handLiveTo({
      takeLive(event) {
        if (!consumer.accepting) return false;
        taken.push(event);
        return true;
      },
    });
    return { follower, taken, consumer };
  }

  it('hands each next live event to the consumer at once, in order, while next() keeps waiting', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    const { told, observer } = recorder();
    const { follower, taken } = taking(log, ref, { observer });
    expect((await nextEvent(follower)).seq).toBe(1);
    let settled = false;
    const waiting = follower.next().then((result) => ((settled = true), result));
    await turns(2); // the follower is waiting for a live event
    await appendMany(inner, ref, 5); // seq 2..6
    expect(seqs(taken)).toEqual([2, 3, 4, 5, 6]);
    await turns(2);
    expect(settled).toBe(false);
    expect(stats.reads).toBe(1); // nothing was read back from history
    // The session's end is the stream's business: it comes through next(), and the stream completes.
    await inner.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' });
    expect((await waiting).value).toMatchObject({ seq: 7, event: { type: 'SESSION_ENDED' } });
    await expectDone(follower);
    expect(told).toEqual(['opened', 'initial 1', 'live 2', 'live 3', 'live 4', 'live 5', 'live 6', 'live 7', 'closed']);
  });

  it('gives a declined event through next(), and offers nothing more until the reader waits again', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { follower, taken, consumer } = taking(inner, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    const waiting = nextEvent(follower);
    await turns(2);
    await appendMany(inner, ref, 1); // seq 2, taken
    consumer.accepting = false;
    await appendMany(inner, ref, 1); // seq 3, declined: wakes the reader
    consumer.accepting = true;
    await appendMany(inner, ref, 2); // seq 4, 5: buffered behind 3, never offered out of order
    expect((await waiting).seq).toBe(3);
    expect(seqs(await nextEvents(follower, 2))).toEqual([4, 5]);
    const again = follower.next();
    await turns(2);
    await appendMany(inner, ref, 1); // seq 6: the reader waits with nothing buffered, so it is offered again
    expect(seqs(taken)).toEqual([2, 6]);
    await follower.return!();
    expect(await again).toEqual({ done: true, value: undefined });
  });

  it('leaves a gap to next(), which fills it from history before anything else is taken', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log } = observe(inner, { dropLive: (event) => event.seq === 3 });
    const { follower, taken } = taking(log, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    const waiting = nextEvent(follower);
    await turns(2);
    await appendMany(inner, ref, 3); // seq 2 taken, 3 lost on the way, 4 shows the gap
    expect(seqs(taken)).toEqual([2]);
    expect((await waiting).seq).toBe(3);
    expect((await nextEvent(follower)).seq).toBe(4);
  });

  it("offers a live-only event under the seq before it, and skips other requests' events without waking the reader", async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    await inner.append(ref, progress(1, 'r1')); // seq 2
    const { log, feeds } = observe(inner);
    const { follower, taken } = taking(log, ref, { requestId: 'r1' });
    expect((await nextEvent(follower)).seq).toBe(2);
    let settled = false;
    void follower.next().then(() => (settled = true));
    await turns(2);
    await inner.append(ref, progress(5, 'r2')); // seq 3: another request's, skipped
    feeds[0]!.push({ sessionId: ref.sessionId, seq: 0, timestamp: Date.now(), ephemeral: true, event: progress(7, 'r1') });
    feeds[0]!.push({ sessionId: ref.sessionId, seq: 0, timestamp: Date.now(), ephemeral: true, event: progress(8, 'r2') });
    await inner.append(ref, progress(9, 'r1')); // seq 4
    expect(taken.map((e) => [e.seq, e.ephemeral, e.event['percent']])).toEqual([
      [3, true, 7],
      [4, false, 9],
    ]);
    // The request's end completes the stream: through next().
    await inner.append(ref, { type: 'RUN_FINISHED', requestId: 'r1' }); // seq 5
    await turns(2);
    expect(settled).toBe(true);
  });

  it('counts taken events as activity: a session they keep alive is not checked for idleness', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const inner = memoryLog({ sessionTtlMs: 1_000 });
    const ref = await newSession(inner);
    let lookups = 0;
    const log: EventLog = { ...inner, sessionExists: (id) => (lookups++, inner.sessionExists(id)) };
    const { follower, taken } = taking(log, ref, { idleCheckMs: 100 });
    expect((await nextEvent(follower)).seq).toBe(1);
    void follower.next();
    for (let round = 2; round <= 6; round++) {
      await vi.advanceTimersByTimeAsync(60);
      await inner.append(ref, progress(round));
    }
    expect(seqs(taken)).toEqual([2, 3, 4, 5, 6]);
    expect(lookups).toBe(0);
    await vi.advanceTimersByTimeAsync(150); // now quiet for longer than idleCheckMs: one check
    expect(lookups).toBe(1);
  });
  it('ends at the credential\'s expiry even while events keep being taken', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { follower, taken } = taking(inner, ref, { idleCheckMs: 100, expiresAt: Date.now() + 250 });
    expect((await nextEvent(follower)).seq).toBe(1);
    let settled: IteratorResult<FollowItem> | undefined;
    void follower.next().then((result) => (settled = result));
    for (let round = 2; round <= 6; round++) {
      await vi.advanceTimersByTimeAsync(60);
      if (settled) break;
      await inner.append(ref, progress(round));
    }
    expect(seqs(taken)).toEqual([2, 3, 4, 5]); // the fifth append (at 300 ms) came after the expiry
    expect(settled).toMatchObject({ done: false, value: { error: { extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' } } } });
  });

  it('does not take an event that arrives past the expiry before the expiry timer fired: the stream ends instead', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { follower, taken } = taking(inner, ref, { idleCheckMs: 60_000, expiresAt: Date.now() + 250 });
    expect((await nextEvent(follower)).seq).toBe(1);
    const ending = follower.next();
    await turns(2);
    vi.setSystemTime(Date.now() + 300); // the clock is past the expiry; no timer has run yet
    await inner.append(ref, progress(2));
    expect(taken).toEqual([]);
    expect(await ending).toMatchObject({ done: false, value: { error: { extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' } } } });
  });
});

describe('followSession: a request', () => {
  it.each([
    ['RUN_FINISHED', { type: 'RUN_FINISHED', requestId: 'r1', result: { answer: 42 } }],
    ['RUN_FAILED', { type: 'RUN_FAILED', requestId: 'r1', message: 'boom', retryable: false }],
  ] as const)("delivers only the request's events and completes after its %s, then stops listening", async (_type, terminal) => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    await inner.append(ref, { type: 'RUN_STARTED', requestId: 'r1' }); // 2
    await inner.append(ref, { type: 'RUN_STARTED', requestId: 'r2' }); // 3
    await inner.append(ref, progress(10, 'r1')); // 4
    const follower = follow(log, ref, { requestId: 'r1' });
    expect(seqs(await nextEvents(follower, 2))).toEqual([2, 4]);

    const pending = nextEvent(follower);
    await inner.append(ref, progress(10, 'r2')); // 5: another request
    await inner.append(ref, progress(20)); // 6: session-wide, no request
    await inner.append(ref, { type: 'RUN_FINISHED', requestId: 'r2' }); // 7: another request's end does not end this one
    await inner.append(ref, progress(30, 'r1')); // 8
    expect((await pending).seq).toBe(8);
    await inner.append(ref, terminal); // 9
    await inner.append(ref, progress(40, 'r1')); // 10: after the end, never delivered
    const last = await nextEvent(follower);
    expect([last.seq, last.event.type]).toEqual([9, terminal.type]);
    await expectDone(follower);
    expect(stats.stopped).toBe(1);
  });

  it('completes after a terminal event found in the history, without going live', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    await inner.append(ref, progress(10, 'r1')); // 2
    await inner.append(ref, { type: 'RUN_FAILED', requestId: 'r1', message: 'no' }); // 3
    await inner.append(ref, progress(50, 'r1')); // 4
    const follower = follow(log, ref, { requestId: 'r1' });
    expect(seqs(await nextEvents(follower, 2))).toEqual([2, 3]);
    await expectDone(follower);
    expect(stats.stopped).toBe(1);
  });

  it('is not completed by RUN_FINISHED when following the whole session', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    const follower = follow(log, ref);
    await log.append(ref, { type: 'RUN_FINISHED', requestId: 'r1' }); // 2
    await log.append(ref, progress(1)); // 3
    expect(seqs(await nextEvents(follower, 3))).toEqual([1, 2, 3]);
  });
});

describe('followSession: the session ends', () => {
  it.each([['the session', undefined], ['a request', 'r1']])('completes %s after SESSION_ENDED, delivered with the next seq', async (_what, requestId) => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    await inner.append(ref, progress(1, 'r1')); // 2
    const follower = follow(log, ref, requestId ? { requestId } : {});
    expect((await nextEvents(follower, requestId ? 1 : 2)).at(-1)!.seq).toBe(2);
    const pending = nextEvent(follower);
    const ended = await inner.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' });
    expect(await pending).toEqual(ended);
    expect(ended).toMatchObject({ seq: 3, ephemeral: false, event: { type: 'SESSION_ENDED', reason: 'ENDED' } });
    await expectDone(follower);
    expect(stats.stopped).toBe(1);
  });

  it('ends at once when the session no longer exists', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    await log.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' });
    const follower = follow(log, ref);
    const end = await nextEvent(follower);
    expect(end).toMatchObject({ sessionId: ref.sessionId, ephemeral: true, event: { type: 'SESSION_ENDED', reason: 'ENDED' } });
    await expectDone(follower);
  });

  it('does not hide events lost with the history when the session ends while a slow subscriber is behind', async () => {
    // The subscriber's buffer overflows, then the session ends (history deleted): the events it missed are gone
    // for good, but it must be able to tell: the SESSION_ENDED it gets carries the real seq, not its own last one.
    const log = memoryLog();
    const ref = await newSession(log);
    const follower = follow(log, ref, { maxBuffered: 2 });
    expect((await nextEvent(follower)).seq).toBe(1);
    await appendMany(log, ref, 5); // seq 2..6, overflowing the buffer
    const ended = await log.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' }); // seq 7
    const end = await nextEvent(follower);
    expect(end.event.type).toBe('SESSION_ENDED');
    expect(end.seq).toBe(ended.seq);
    await expectDone(follower);
  });

  it('delivers the real SESSION_ENDED when a resync finds the history already deleted', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, resyncs } = observe(inner, { dropLive: (event) => event.seq === 2 });
    const follower = follow(log, ref);
    expect((await nextEvent(follower)).seq).toBe(1);
    await inner.append(ref, progress(5)); // seq 2, lost on the way
    resyncs[0]!(); // the pub/sub connection came back…
    const ended = await inner.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' }); // …just before the end
    // Seq 3 right after seq 1: the subscriber can see it missed seq 2.
    expect(await nextEvent(follower)).toEqual(ended);
    await expectDone(follower);
  });
});

describe('followSession: a slow subscriber', () => {
  it('gets every durable event exactly once, in order, after falling more than maxBuffered behind', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    const follower = follow(log, ref, { maxBuffered: 2, pageSize: 3 });
    expect((await nextEvent(follower)).seq).toBe(1);
    const readsBefore = stats.reads;
    await appendMany(inner, ref, 30); // seq 2..31 while the subscriber reads nothing
    expect(seqs(await nextEvents(follower, 30))).toEqual(range(2, 31));
    expect(stats.reads).toBeGreaterThan(readsBefore); // it did refill from history
    const pending = nextEvent(follower);
    await inner.append(ref, progress(1));
    expect((await pending).seq).toBe(32);
  });

  it('keeps exactly-once order through repeated bursts and partial reads, with a request filter', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    const follower = follow(log, ref, { maxBuffered: 3, pageSize: 2, requestId: 'r1' });
    const received: SessionEvent[] = [];
    const expected: number[] = [];
    for (const [burst, reads] of [
      [5, 1],
      [0, 2],
      [9, 3],
      [1, 0],
      [4, 4],
      [12, 1],
      [2, 5],
    ]) {
      for (let i = 0; i < burst!; i++) {
        const logged = await log.append(ref, progress(i, i % 3 === 0 ? 'r2' : 'r1'));
        if (logged.event.requestId === 'r1') expected.push(logged.seq);
      }
      const readable = Math.min(reads!, expected.length - received.length);
      received.push(...(await nextEvents(follower, readable)));
    }
    received.push(...(await nextEvents(follower, expected.length - received.length)));
    expect(seqs(received)).toEqual(expected);
    expect(received.every((e) => e.event.requestId === 'r1')).toBe(true);
  });
});

describe('followSession: history no longer retained', () => {
  it('fails with CURSOR_EXPIRED for a cursor older than the retained history, then ends and stops listening', async () => {
    const inner = memoryLog({ historyMaxEvents: 5 });
    const ref = await newSession(inner);
    await appendMany(inner, ref, 10); // seq 2..11; retained 7..11
    const { log, stats } = observe(inner);
    const follower = follow(log, ref, { afterSeq: 2 });
    const error = await nextError(follower);
    expect(error.extensions['code']).toBe('CURSOR_EXPIRED');
    await expectDone(follower);
    expect(stats.stopped).toBe(1);
  });

  it('accepts a cursor just before the first retained event', async () => {
    const log = memoryLog({ historyMaxEvents: 5 });
    const ref = await newSession(log);
    await appendMany(log, ref, 10);
    const follower = follow(log, ref, { afterSeq: 6 });
    expect(seqs(await nextEvents(follower, 5))).toEqual(range(7, 11));
  });

  it('starts a subscriber without a cursor at the oldest retained event', async () => {
    const log = memoryLog({ historyMaxEvents: 5 });
    const ref = await newSession(log);
    await appendMany(log, ref, 10);
    const follower = follow(log, ref);
    expect(seqs(await nextEvents(follower, 5))).toEqual(range(7, 11));
  });

  it('fails with CURSOR_EXPIRED when a slow subscriber falls behind further than the history reaches', async () => {
    const log = memoryLog({ historyMaxEvents: 5 });
    const ref = await newSession(log);
    const follower = follow(log, ref, { maxBuffered: 2 });
    expect((await nextEvent(follower)).seq).toBe(1);
    await appendMany(log, ref, 20); // seq 2..21; retained 17..21; the buffer overflowed
    const error = await nextError(follower);
    expect(error.extensions['code']).toBe('CURSOR_EXPIRED');
    expect(error.message).toContain('1');
    await expectDone(follower);
  });
});

describe('followSession: the history was rewound', () => {
  it('fails with CURSOR_EXPIRED when a catch-up finds less history than was delivered (Redis lost acknowledged events)', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    await appendMany(inner, ref, 4); // seq 2..5
    let rewound = false;
    const observed = observe(inner);
    // After the "crash" the store holds only seq 1..2; new events would reuse seq 3, 4, 5 …
    const log: EventLog = { ...observed.log, read: async (...args) => (rewound ? { events: [], firstSeq: 1, lastSeq: 2 } : observed.log.read(...args)) };
    const follower = follow(log, ref);
    expect(seqs(await nextEvents(follower, 5))).toEqual([1, 2, 3, 4, 5]);
    rewound = true;
    for (const resync of observed.resyncs) resync(); // the pub/sub connection came back after the restart
    const error = await nextError(follower);
    expect(error.extensions['code']).toBe('CURSOR_EXPIRED');
    expect(error.message).toContain('rewound');
    await expectDone(follower);
  });
});

describe('followSession: idle expiry', () => {
  it('ends with SESSION_ENDED (EXPIRED) once the quiet session has expired', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const log = memoryLog({ sessionTtlMs: 1_000 });
    const ref = await newSession(log);
    const follower = follow(log, ref, { idleCheckMs: 100 });
    expect((await follower.next()).value).toMatchObject({ seq: 1 });
    let settled: IteratorResult<FollowItem> | undefined;
    const pending = follower.next().then((result) => (settled = result));
    await vi.advanceTimersByTimeAsync(950); // nine idle checks: the session is still there
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(100);
    await pending;
    expect(settled).toMatchObject({
      done: false,
      value: { sessionId: ref.sessionId, seq: 1, ephemeral: true, event: { type: 'SESSION_ENDED', reason: 'EXPIRED' } },
    });
    expect(await follower.next()).toEqual({ done: true, value: undefined });
  });

  it('keeps following a session that events keep alive', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const log = memoryLog({ sessionTtlMs: 1_000 });
    const ref = await newSession(log);
    const follower = follow(log, ref, { idleCheckMs: 100 });
    expect((await follower.next()).value).toMatchObject({ seq: 1 });
    for (let round = 2; round <= 6; round++) {
      const pending = follower.next();
      await vi.advanceTimersByTimeAsync(800); // quiet, but never for a whole TTL
      await log.append(ref, progress(round));
      expect((await pending).value).toMatchObject({ seq: round, ephemeral: false });
    }
  });
});

describe('followSession: leaving', () => {
  it('return() while waiting for a live event ends the follower promptly and stops listening', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const follower = follow(log, ref, { idleCheckMs: 60_000 });
    expect((await follower.next()).value).toMatchObject({ seq: 1 });
    const pending = follower.next();
    // Wait until it is really waiting: its idle timer is set.
    for (let i = 0; i < 100 && vi.getTimerCount() === 0; i++) await turns(1);
    expect(vi.getTimerCount()).toBe(1);
    expect(stats).toMatchObject({ listening: 1, stopped: 0 });

    const returned = follower.return!();
    // Promptly: within a few turns of the event loop, with no timer advanced.
    const outcome = await Promise.race([returned.then(() => 'returned'), turns(20).then(() => 'still waiting')]);
    expect(outcome).toBe('returned');
    await expect(returned).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(stats.stopped).toBe(1);
    expect(vi.getTimerCount()).toBe(0);

    // Its listener is gone: a later event reaches nobody.
    await inner.append(ref, progress(1));
    expect(stats.delivered).toBe(0);
    await expectDone(follower);
  });

  it('breaking out of for-await stops listening', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    await appendMany(inner, ref, 4);
    const seen: number[] = [];
    for await (const item of followSession(log, ref, { pageSize: 2, maxBuffered: 10, idleCheckMs: 60_000 })) {
      if ('error' in item) throw item.error;
      seen.push(item.seq);
      if (item.seq === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(stats).toMatchObject({ listening: 1, stopped: 1 });
    await inner.append(ref, progress(1));
    expect(stats.delivered).toBe(0);
  });

  it('return() before the first next() never listens', async () => {
    const inner = memoryLog();
    const ref = await newSession(inner);
    const { log, stats } = observe(inner);
    const follower = followSession(log, ref, { pageSize: 2, maxBuffered: 10, idleCheckMs: 60_000 });
    await expect(follower.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(follower.next()).resolves.toEqual({ done: true, value: undefined });
    expect(stats).toMatchObject({ listening: 0, stopped: 0, reads: 0 });
  });
});

describe('followSession: its observer', () => {
  it('is told where each delivered event came from: the initial replay, live, a refill, the end', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    await appendMany(log, ref, 1); // seq 2
    const { told, observer } = recorder();
    const follower = follow(log, ref, { maxBuffered: 2, pageSize: 10, observer });
    expect(seqs(await nextEvents(follower, 2))).toEqual([1, 2]);
    const live = nextEvent(follower);
    await log.append(ref, progress(3)); // seq 3, live
    await live;
    await appendMany(log, ref, 4); // seq 4..7 overflow a buffer of 2: a refill from history
    expect(seqs(await nextEvents(follower, 4))).toEqual([4, 5, 6, 7]);
    await log.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' });
    expect((await nextEvent(follower)).seq).toBe(8);
    await expectDone(follower);
    expect(told).toEqual(['opened', 'initial 1', 'initial 2', 'live 3', 'refill 4', 'refill 5', 'refill 6', 'refill 7', 'live 8', 'closed']);
  });

  it('reports a resume after a cursor, and closes when the subscriber leaves mid-stream', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    await appendMany(log, ref, 2); // seq 2, 3
    const { told, observer } = recorder();
    const follower = follow(log, ref, { afterSeq: 1, observer });
    expect(seqs(await nextEvents(follower, 2))).toEqual([2, 3]);
    const waiting = follower.next(); // waits for a live event that never comes
    await follower.return!();
    await waiting;
    expect(told).toEqual(['opened', 'resume 2', 'resume 3', 'closed']);
  });

  it('is neither opened nor closed for a stream cancelled before it started', async () => {
    const log = memoryLog();
    const ref = await newSession(log);
    const { told, observer } = recorder();
    await follow(log, ref, { observer }).return!();
    expect(told).toEqual([]);
  });
});
