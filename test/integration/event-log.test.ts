import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { EventLog, LiveFeed } from '../../src/bus/event-log.js';
import { createMemoryEventLog } from '../../src/bus/memory.js';
import { sessionKey, streamKey } from '../../src/bus/redis-keys.js';
import { createRedisEventLog } from '../../src/bus/redis.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import type { RawEvent, SessionEvent, SessionRef } from '../../src/events/types.js';
import { createMetrics } from '../../src/metrics.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

interface Limits {
  historyMaxEvents: number;
  sessionTtlMs: number;
  maxEventBytes: number;
  maxPublishBatch: number;
  idempotencyWindowMs: number;
}

const DEFAULT_LIMITS: Limits = {
  historyMaxEvents: DEFAULT_CONFIG.historyMaxEvents,
  sessionTtlMs: DEFAULT_CONFIG.sessionTtlMs,
  maxEventBytes: DEFAULT_CONFIG.maxEventBytes,
  maxPublishBatch: DEFAULT_CONFIG.maxPublishBatch,
  idempotencyWindowMs: DEFAULT_CONFIG.idempotencyWindowMs,
};

interface Opened {
  log: EventLog;
  /** Another process on the same store (a second replica), for the Redis log; the same log in memory. */
  replica(): Promise<EventLog>;
  /** Which of the session's Redis keys exist; undefined for the memory log. */
  redisKeys?(ref: SessionRef): Promise<{ stream: boolean; session: boolean; pttl: number[] }>;
}

interface Store {
  name: 'memory' | 'redis';
  /** History is bounded exactly (memory) or approximately (Redis `MAXLEN ~`). */
  exactBound: boolean;
  open(limits?: Partial<Limits>): Promise<Opened>;
}

/**
 * The Redis arm runs on a redis-server of its own. The limits are baked into the Redis Function library, which
 * is global to a server (the last gateway to load it wins), so tests that use small limits would change them for
 * every other test file running at the same time on the shared server, and be changed by them.
 */
let privateRedis: Promise<RedisServer> | undefined;
afterAll(async () => {
  await (await privateRedis)?.stop();
});

const STORES: Store[] = [
  {
    name: 'memory',
    exactBound: true,
    async open(limits = {}) {
      const log = createMemoryEventLog({ ...DEFAULT_LIMITS, ...limits });
      onTestFinished(() => log.close());
      return { log, replica: async () => log };
    },
  },
  {
    name: 'redis',
    exactBound: false,
    async open(limits = {}) {
      const { url } = await (privateRedis ??= startRedisServer());
      // A queue of its own, so jobs from other tests never show up in takeJob.
      const requestQueueKey = `queue:test-${randomUUID()}`;
      const create = async () => {
        const log = await createRedisEventLog({
          url,
          requestQueueKey,
          log: pino({ level: 'silent' }),
          metrics: createMetrics(),
          ...DEFAULT_LIMITS,
          ...limits,
        });
        onTestFinished(() => log.close());
        return log;
      };
      const raw = new Redis(url);
      onTestFinished(async () => {
        await raw.quit();
      });
      return {
        log: await create(),
        replica: create,
        async redisKeys(ref) {
          const keys = [streamKey(ref), sessionKey(ref.sessionId)];
          const [stream, session] = await Promise.all(keys.map((key) => raw.exists(key)));
          return { stream: stream === 1, session: session === 1, pttl: await Promise.all(keys.map((key) => raw.pttl(key))) };
        },
      };
    },
  },
];

const STARTED: RawEvent = { type: 'SESSION_STARTED' };
const ENDED: RawEvent = { type: 'SESSION_ENDED', reason: 'ENDED' };
const progress = (percent: number, requestId?: string): RawEvent => ({ type: 'PROGRESS', percent, ...(requestId ? { requestId } : {}) });

function newRef(userId = 'alice'): SessionRef {
  return { userId, sessionId: `s-${randomUUID()}` };
}

async function started(log: EventLog, userId = 'alice'): Promise<SessionRef> {
  const ref = newRef(userId);
  expect((await log.startSession(ref, STARTED)).outcome).toBe('created');
  return ref;
}

/** What a live feed received, with a way to await what it should receive. */
function collector() {
  const events: SessionEvent[] = [];
  const waiters = new Set<() => void>();
  const feed: LiveFeed = {
    push(event) {
      events.push(event);
      for (const waiter of waiters) waiter();
    },
  };
  /** Resolves once `ready()` holds; rejects after `timeoutMs` (a stuck test, not a way to wait). */
  function until(ready: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (then: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      const check = () => {
        if (ready()) settle(resolve);
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`timed out waiting for ${what}; got seqs ${events.map((e) => e.seq)}`))), timeoutMs);
      waiters.add(check);
      check();
    });
  }
  return { events, feed, until, seq: (seq: number) => until(() => events.some((e) => e.seq === seq), `seq ${seq}`) };
}

async function expectCode(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toMatchObject({ extensions: { code } });
}

describe.each(STORES)('event log contract ($name)', (store) => {
  describe('startSession', () => {
    it('creates a session, finds the owner’s existing one, and refuses an id another user owns', async () => {
      const { log } = await store.open();
      const ref = newRef('alice');
      const before = Date.now();
      const created = await log.startSession(ref, STARTED);
      const after = Date.now();
      if (created.outcome !== 'created') throw new Error(`expected created, got ${created.outcome}`);
      expect(created.session).toEqual({ ...ref, createdAt: expect.any(Number), updatedAt: expect.any(Number) });
      expect(created.session.createdAt).toBeGreaterThanOrEqual(before);
      expect(created.session.createdAt).toBeLessThanOrEqual(after);
      expect(created.session.updatedAt).toBe(created.session.createdAt);
      expect(await log.getSession(ref.sessionId)).toEqual(created.session);

      const existing = await log.startSession(ref, STARTED);
      expect(existing).toEqual({ outcome: 'existing', session: created.session });
      expect(await log.startSession({ userId: 'bob', sessionId: ref.sessionId }, STARTED)).toEqual({ outcome: 'taken' });

      // Only the creation logged an event; the owner is unchanged.
      const page = await log.read(ref, 0, 100);
      expect(page.events.map((e) => [e.seq, e.event])).toEqual([[1, STARTED]]);
      expect([page.firstSeq, page.lastSeq]).toEqual([1, 1]);
      expect((await log.getSession(ref.sessionId))?.userId).toBe('alice');
      expect(await log.getSession(`s-${randomUUID()}`)).toBeNull();
    });

    it('answers existing with the last update time', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const appended = await log.append(ref, progress(1));
      const existing = await log.startSession(ref, STARTED);
      if (existing.outcome !== 'existing') throw new Error(`expected existing, got ${existing.outcome}`);
      expect(existing.session.updatedAt).toBe(appended.timestamp);
    });
  });

  describe('append', () => {
    it('numbers events 1, 2, 3 … without gaps, timestamps them, and keeps them in the history', async () => {
      const { log } = await store.open();
      const before = Date.now();
      const ref = await started(log);
      const events: RawEvent[] = [
        progress(10, 'r1'),
        { type: 'TOOL_CALL_STARTED', requestId: 'r1', agent: 'planner', toolCallId: 't1', toolName: 'web_search', args: { q: 'x', list: [], n: 1.5 } },
        { type: 'STATE_SNAPSHOT', snapshot: { nested: { empty: {}, list: [1, 'two'] } } },
      ];
      const logged = [];
      for (const event of events) logged.push(await log.append(ref, event));
      const after = Date.now();

      expect(logged.map((e) => e.seq)).toEqual([2, 3, 4]);
      for (const [i, entry] of logged.entries()) {
        expect(entry).toEqual({ sessionId: ref.sessionId, seq: i + 2, timestamp: expect.any(Number), ephemeral: false, event: events[i] });
        expect(entry.timestamp).toBeGreaterThanOrEqual(before);
        expect(entry.timestamp).toBeLessThanOrEqual(after);
      }
      expect(logged.map((e) => e.timestamp)).toEqual([...logged.map((e) => e.timestamp)].sort((a, b) => a - b));

      const page = await log.read(ref, 0, 100);
      expect(page.events.slice(1)).toEqual(logged);
      expect(page.events[0]).toMatchObject({ seq: 1, ephemeral: false, event: STARTED });
      expect((await log.getSession(ref.sessionId))?.updatedAt).toBe(logged.at(-1)!.timestamp);
    });

    it('gives concurrent appends distinct, gap-free seqs', async () => {
      const { log, replica } = await store.open();
      const other = await replica();
      const ref = await started(log);
      const logged = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? log : other).append(ref, progress(i))));
      expect(logged.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
      const page = await log.read(ref, 0, 100);
      expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    });

    it('refuses an invalid event with BAD_USER_INPUT, logging and publishing nothing', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const received = collector();
      onTestFinished(await log.listen(ref, received.feed));
      const invalid: RawEvent[] = [
        { type: 'PROGRESS', percent: 101 },
        { type: 'PROGRESS', percent: -1 },
        { type: 'PROGRESS', bogus: true },
        { type: 'STEP_STARTED' },
        { type: 'STEP_STARTED', name: '' },
        { type: 'NOPE' },
        { type: 'SESSION_STARTED' },
        { type: 'REQUEST_QUEUED', input: {} },
        { type: 'SESSION_ENDED', reason: 'ENDED' },
        { type: 'TOOL_CALL_STARTED', toolCallId: 'a:b', toolName: 't' },
        { type: 'PROGRESS', requestId: 'channel:*' },
        { type: 'MODEL_CALL_FINISHED', model: 'm', inputTokens: 1.5 },
        { type: 'STEP_STARTED', name: 'x'.repeat(201) },
      ];
      for (const event of invalid) await expectCode(log.append(ref, event), 'BAD_USER_INPUT');
      await expectCode(log.append(ref, { type: 'CUSTOM', name: 'big', value: 'x'.repeat(DEFAULT_LIMITS.maxEventBytes) }), 'PAYLOAD_TOO_LARGE');

      // Nothing was logged: the next valid event gets seq 2, and it is the first the listener sees.
      const valid = await log.append(ref, progress(5));
      expect(valid.seq).toBe(2);
      await received.seq(2);
      expect(received.events.map((e) => e.seq)).toEqual([2]);
      expect((await log.read(ref, 0, 100)).lastSeq).toBe(2);
    });

    it('refuses a missing session, or another user’s, with SESSION_NOT_FOUND', async () => {
      const { log } = await store.open();
      await expectCode(log.append(newRef(), progress(1)), 'SESSION_NOT_FOUND');
      const ref = await started(log, 'alice');
      await expectCode(log.append({ userId: 'bob', sessionId: ref.sessionId }, progress(1)), 'SESSION_NOT_FOUND');
      expect((await log.read(ref, 0, 100)).lastSeq).toBe(1);
    });
  });

  describe('appendAll (batches and idempotency keys)', () => {
    it('appends a batch with consecutive seqs and one timestamp, published in order', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const received = collector();
      onTestFinished(await log.listen(ref, received.feed));
      const batch = [progress(10), { type: 'TEXT_MESSAGE_DELTA', messageId: 'm1', delta: 'Hel' }, progress(20)] satisfies RawEvent[];
      const { events, replayed } = await log.appendAll(ref, batch);
      expect(replayed).toBe(false);
      expect(events.map((e) => [e.seq, e.event])).toEqual([[2, batch[0]], [3, batch[1]], [4, batch[2]]]);
      expect(new Set(events.map((e) => e.timestamp)).size).toBe(1);
      await received.seq(4);
      expect(received.events).toEqual(events);
      expect((await log.read(ref, 0, 100)).events.slice(1)).toEqual(events);
    });

    it('refuses the whole batch when one event is invalid or the batch is too large, appending nothing', async () => {
      const { log } = await store.open({ maxPublishBatch: 3 });
      const ref = await started(log);
      await expect(log.appendAll(ref, [progress(1), { type: 'PROGRESS', percent: 101 }])).rejects.toMatchObject({
        message: expect.stringMatching(/^events\[1\]: /),
        extensions: { code: 'BAD_USER_INPUT' },
      });
      await expectCode(log.appendAll(ref, [progress(1), progress(2), progress(3), progress(4)]), 'BATCH_TOO_LARGE');
      await expectCode(log.appendAll(ref, []), 'BAD_USER_INPUT');
      expect((await log.read(ref, 0, 100)).lastSeq).toBe(1);
      expect((await log.appendAll(ref, [progress(1), progress(2), progress(3)])).events.map((e) => e.seq)).toEqual([2, 3, 4]);
    });

    it('answers a retry with the same key and events with the original seqs, appending and publishing nothing', async () => {
      const { log, replica } = await store.open();
      const ref = await started(log);
      const received = collector();
      onTestFinished(await log.listen(ref, received.feed));
      const first = await log.appendAll(ref, [progress(1), progress(2)], 'retry-1');
      // A retry may land on another replica.
      const retry = await (await replica()).appendAll(ref, [progress(1), progress(2)], 'retry-1');
      expect(retry).toEqual({ events: first.events, replayed: true });
      const single = await log.appendAll(ref, [progress(3)], 'retry-2');
      expect((await log.appendAll(ref, [progress(3)], 'retry-2')).events).toEqual(single.events);
      await received.seq(4);
      expect(received.events.map((e) => e.seq)).toEqual([2, 3, 4]);
      expect((await log.read(ref, 0, 100)).lastSeq).toBe(4);
    });

    it('refuses a key reused for other events, and keys of a bad shape; keys are per session', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const other = await started(log);
      await log.appendAll(ref, [progress(1)], 'key-1');
      await expectCode(log.appendAll(ref, [progress(2)], 'key-1'), 'IDEMPOTENCY_KEY_REUSED');
      await expectCode(log.appendAll(ref, [progress(1), progress(1)], 'key-1'), 'IDEMPOTENCY_KEY_REUSED');
      for (const key of ['has space', 'x'.repeat(129), 'ünï', 'a*b']) await expectCode(log.appendAll(ref, [progress(1)], key), 'BAD_USER_INPUT');
      expect((await log.read(ref, 0, 100)).lastSeq).toBe(2);
      expect((await log.appendAll(other, [progress(2)], 'key-1')).replayed).toBe(false);
    });

    it('answers a key only for the session it was used in: not another user, not the same id started again', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      await log.appendAll(ref, [progress(1)], 'key-1');
      await expectCode(log.appendAll({ userId: 'bob', sessionId: ref.sessionId }, [progress(1)], 'key-1'), 'SESSION_NOT_FOUND');
      await log.endSession(ref, ENDED);
      await expectCode(log.appendAll(ref, [progress(1)], 'key-1'), 'SESSION_NOT_FOUND');
      // Another millisecond, so the new session is a new incarnation even by its creation time.
      const ended = Date.now();
      await expect.poll(() => Date.now()).toBeGreaterThan(ended);
      expect((await log.startSession(ref, STARTED)).outcome).toBe('created');
      const again = await log.appendAll(ref, [progress(1)], 'key-1');
      expect(again.replayed).toBe(false);
      expect(again.events.map((e) => e.seq)).toEqual([2]);
    });

    it('forgets a key after the window: the same events then append again', async () => {
      const { log } = await store.open({ idempotencyWindowMs: 100 });
      const ref = await started(log);
      await log.appendAll(ref, [progress(1)], 'short-lived');
      // Each attempt inside the window is a harmless replay; the loop ends at the first real append.
      let outcome;
      do outcome = await log.appendAll(ref, [progress(1)], 'short-lived');
      while (outcome.replayed);
      expect(outcome.events.map((e) => e.seq)).toEqual([3]);
    });
  });

  describe('read', () => {
    it('pages after a cursor, within a limit, with the retained bounds', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      for (let i = 0; i < 5; i++) await log.append(ref, progress(i)); // seq 2..6
      const seqsOf = async (after: number, limit: number) => {
        const page = await log.read(ref, after, limit);
        expect([page.firstSeq, page.lastSeq]).toEqual([1, 6]);
        return page.events.map((e) => e.seq);
      };
      expect(await seqsOf(0, 3)).toEqual([1, 2, 3]);
      expect(await seqsOf(3, 2)).toEqual([4, 5]);
      expect(await seqsOf(5, 10)).toEqual([6]);
      expect(await seqsOf(6, 10)).toEqual([]);
      expect(await seqsOf(0, 100)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await seqsOf(2, 1)).toEqual([3]);
    });

    it('finds nothing for a missing session or another user’s', async () => {
      const { log } = await store.open();
      const empty = { events: [], firstSeq: 0, lastSeq: 0 };
      expect(await log.read(newRef(), 0, 10)).toEqual(empty);
      const ref = await started(log, 'alice');
      expect(await log.read({ userId: 'bob', sessionId: ref.sessionId }, 0, 10)).toEqual(empty);
    });

    it('retains a bounded history: the oldest events go, the seqs go on', async () => {
      const historyMaxEvents = 10;
      const { log } = await store.open({ historyMaxEvents });
      const ref = await started(log);
      const appended = 300;
      for (let i = 0; i < appended; i++) await log.append(ref, progress(i % 101));
      const page = await log.read(ref, 0, 1_000);
      const retained = page.events.map((e) => e.seq);
      expect(page.lastSeq).toBe(appended + 1);
      expect(page.firstSeq).toBeGreaterThan(1);
      // What is retained is the newest events, contiguous.
      expect(retained).toEqual(Array.from({ length: page.lastSeq - page.firstSeq + 1 }, (_, i) => page.firstSeq + i));
      expect(retained.length).toBeGreaterThanOrEqual(historyMaxEvents);
      if (store.exactBound) expect(retained.length).toBe(historyMaxEvents);
      // Redis trims whole stream nodes only (`MAXLEN ~`): at most one node (stream-node-max-entries, 100) more.
      else expect(retained.length).toBeLessThanOrEqual(historyMaxEvents + 100);
      // Reading from the start begins at the oldest retained event.
      expect((await log.read(ref, 0, 2)).events.map((e) => e.seq)).toEqual([page.firstSeq, page.firstSeq + 1]);
      // The next event still gets the next seq.
      expect((await log.append(ref, progress(1))).seq).toBe(appended + 2);
    });
  });

  describe('expiry', () => {
    it('forgets an idle session and its history after sessionTtlMs', async () => {
      const sessionTtlMs = 300;
      const { log, redisKeys } = await store.open({ sessionTtlMs });
      const ref = await started(log);
      await log.append(ref, progress(1));
      if (redisKeys) {
        const keys = await redisKeys(ref);
        expect(keys).toMatchObject({ stream: true, session: true });
        for (const pttl of keys.pttl) {
          expect(pttl).toBeGreaterThan(0);
          expect(pttl).toBeLessThanOrEqual(sessionTtlMs);
        }
      }
      await vi.waitFor(async () => expect(await log.getSession(ref.sessionId)).toBeNull(), { timeout: 5_000, interval: 50 });
      expect(await log.read(ref, 0, 10)).toEqual({ events: [], firstSeq: 0, lastSeq: 0 });
      if (redisKeys) expect(await redisKeys(ref)).toMatchObject({ stream: false, session: false });
      await expectCode(log.append(ref, progress(2)), 'SESSION_NOT_FOUND');
      // The id is free again, with a fresh history.
      expect((await log.startSession(ref, STARTED)).outcome).toBe('created');
      expect((await log.read(ref, 0, 10)).events.map((e) => e.seq)).toEqual([1]);
    });
  });

  describe('endSession', () => {
    it('publishes SESSION_ENDED with the next seq to listeners, then deletes the session and its history', async () => {
      const { log, replica, redisKeys } = await store.open();
      const ref = await started(log);
      const here = collector();
      const there = collector();
      onTestFinished(await log.listen(ref, here.feed));
      onTestFinished(await (await replica()).listen(ref, there.feed));
      await log.append(ref, progress(1)); // 2
      await log.append(ref, progress(2)); // 3

      const ended = await log.endSession(ref, ENDED);
      expect(ended).toEqual({ sessionId: ref.sessionId, seq: 4, timestamp: expect.any(Number), ephemeral: false, event: ENDED });
      for (const received of [here, there]) {
        await received.seq(4);
        expect(received.events.map((e) => e.seq)).toEqual([2, 3, 4]);
        expect(received.events.at(-1)).toEqual(ended);
      }

      expect(await log.getSession(ref.sessionId)).toBeNull();
      expect(await log.read(ref, 0, 10)).toEqual({ events: [], firstSeq: 0, lastSeq: 0 });
      if (redisKeys) expect(await redisKeys(ref)).toMatchObject({ stream: false, session: false });
      await expectCode(log.append(ref, progress(3)), 'SESSION_NOT_FOUND');
      await expectCode(log.endSession(ref, ENDED), 'SESSION_NOT_FOUND');
      await expectCode(log.submitRequest(ref, { type: 'REQUEST_QUEUED', requestId: 'r1' }, { requestId: 'r1' }), 'SESSION_NOT_FOUND');
      // Anyone may now start a session with that id.
      expect((await log.startSession({ userId: 'bob', sessionId: ref.sessionId }, STARTED)).outcome).toBe('created');
    });

    it('refuses another user, leaving the session as it was', async () => {
      const { log } = await store.open();
      const ref = await started(log, 'alice');
      await expectCode(log.endSession({ userId: 'bob', sessionId: ref.sessionId }, ENDED), 'SESSION_NOT_FOUND');
      await expectCode(log.endSession(newRef(), ENDED), 'SESSION_NOT_FOUND');
      expect((await log.getSession(ref.sessionId))?.userId).toBe('alice');
      expect((await log.append(ref, progress(1))).seq).toBe(2);
    });
  });

  describe('submitRequest', () => {
    it('queues the job and logs REQUEST_QUEUED; takeJob hands out jobs oldest first, once', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const received = collector();
      onTestFinished(await log.listen(ref, received.feed));
      const jobs = ['r1', 'r2', 'r3'].map((requestId) => ({
        requestId,
        sessionId: ref.sessionId,
        userId: ref.userId,
        input: { prompt: `question ${requestId}`, options: { list: [1, 'two', null], empty: {} } },
        submittedAt: new Date(0).toISOString(),
      }));
      const queued = [];
      for (const job of jobs) queued.push(await log.submitRequest(ref, { type: 'REQUEST_QUEUED', requestId: job.requestId, input: job.input }, job));

      expect(queued.map((e) => [e.seq, e.ephemeral, e.event])).toEqual(
        jobs.map((job, i) => [i + 2, false, { type: 'REQUEST_QUEUED', requestId: job.requestId, input: job.input }]),
      );
      expect((await log.read(ref, 0, 10)).events.slice(1)).toEqual(queued);
      await received.seq(4);
      expect(received.events).toEqual(queued);

      expect(await log.takeJob()).toEqual(jobs[0]);
      expect(await log.takeJob()).toEqual(jobs[1]);
      expect(await log.takeJob()).toEqual(jobs[2]);
      expect(await log.takeJob()).toBeNull();
    });

    it('queues nothing for a missing session or another user’s', async () => {
      const { log } = await store.open();
      const ref = await started(log, 'alice');
      const job = { requestId: 'r1' };
      await expectCode(log.submitRequest(newRef(), { type: 'REQUEST_QUEUED', requestId: 'r1' }, job), 'SESSION_NOT_FOUND');
      await expectCode(log.submitRequest({ userId: 'bob', sessionId: ref.sessionId }, { type: 'REQUEST_QUEUED', requestId: 'r1' }, job), 'SESSION_NOT_FOUND');
      expect(await log.takeJob()).toBeNull();
      expect((await log.read(ref, 0, 10)).lastSeq).toBe(1);
    });
  });

  describe('listen', () => {
    it('is in effect once it resolves: an append right after is always delivered, here and from another replica', async () => {
      const { log, replica } = await store.open();
      const other = await replica();
      for (let round = 0; round < 25; round++) {
        // A fresh session each round, so each listen really subscribes.
        const ref = await started(log);
        const received = collector();
        const stop = await log.listen(ref, received.feed);
        onTestFinished(stop);
        const publisher = round % 2 ? log : other;
        const logged = await publisher.append(ref, progress(round));
        await received.seq(2);
        expect(received.events).toEqual([logged]);
      }
    });

    it('delivers a session’s events in seq order, only to that session’s listeners', async () => {
      const { log } = await store.open();
      const a = await started(log);
      const b = await started(log);
      const onA = collector();
      const onB = collector();
      onTestFinished(await log.listen(a, onA.feed));
      onTestFinished(await log.listen(b, onB.feed));
      for (let i = 0; i < 20; i++) await log.append(i % 2 ? a : b, progress(i));
      await onA.seq(11);
      await onB.seq(11);
      expect(onA.events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
      expect(onB.events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
      expect(onA.events.every((e) => e.sessionId === a.sessionId)).toBe(true);
      expect(onB.events.every((e) => e.sessionId === b.sessionId)).toBe(true);
    });

    it('stops delivering once stopped, without disturbing another listener of the same session', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const stopped = collector();
      const staying = collector();
      const stop = await log.listen(ref, stopped.feed);
      onTestFinished(await log.listen(ref, staying.feed));
      await log.append(ref, progress(1)); // 2
      await stopped.seq(2);
      stop();
      await log.append(ref, progress(2)); // 3
      // The staying listener shares the subscription, so once it has seq 3 the stopped one would have had it too.
      await staying.seq(3);
      expect(stopped.events.map((e) => e.seq)).toEqual([2]);
      expect(staying.events.map((e) => e.seq)).toEqual([2, 3]);

      // Listening again after everyone stopped works (the channel is subscribed afresh).
      const again = collector();
      onTestFinished(await log.listen(ref, again.feed));
      await log.append(ref, progress(3)); // 4
      await again.seq(4);
      expect(again.events.map((e) => e.seq)).toEqual([4]);
    });

    it('hands a message to every feed of the session even when one stops from inside its push', async () => {
      const { log } = await store.open();
      const ref = await started(log);
      const later = collector();
      let stopFirst = () => {};
      const firstSeen: number[] = [];
      stopFirst = await log.listen(ref, {
        push(event) {
          firstSeen.push(event.seq);
          stopFirst();
        },
      });
      onTestFinished(await log.listen(ref, later.feed));
      await log.append(ref, progress(1)); // 2
      await log.append(ref, progress(2)); // 3
      await later.seq(3);
      expect(firstSeen).toEqual([2]);
      expect(later.events.map((e) => e.seq)).toEqual([2, 3]);
    });
  });
});
