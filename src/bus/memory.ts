import { gatewayError } from '../errors.js';
import { assertJsonWithin } from '../events/json-limits.js';
import type { RawEvent, SessionEvent, SessionRef } from '../events/types.js';
import { assertIdempotencyKey, eventsFingerprint } from '../events/idempotency.js';
import { agentEventSchema, validateEvent } from '../events/validation.js';
import { channelKey } from './redis-keys.js';
import { withFeed, withoutFeed, type Appended, type EventLog, type FeedList, type HistoryPage, type SessionRecord, type StartSessionResult } from './event-log.js';

export interface MemoryEventLogOptions {
  historyMaxEvents: number;
  sessionTtlMs: number;
  maxEventBytes: number;
  maxPublishBatch: number;
  idempotencyWindowMs: number;
}

/** What a publish with an idempotency key left behind, as the Redis Function keeps it. */
interface IdempotencyRecord {
  firstSeq: number;
  timestamp: number;
  fingerprint: string;
  expiresAt: number;
}

interface MemorySession {
  record: SessionRecord;
  expiresAt: number;
  history: SessionEvent[];
  lastSeq: number;
}

/**
 * The embedded event log: one process, nothing to install. Same semantics as the Redis one, including the
 * history bound, idle expiry and validation; every change is synchronous, hence atomic.
 */
export function createMemoryEventLog(options: MemoryEventLogOptions): EventLog {
  const sessions = new Map<string, MemorySession>();
  const feeds = new Map<string, FeedList>();
  const jobs: Record<string, unknown>[] = [];
  /** By `<sessionId> <key>`, in insertion order, which is expiry order: expired records are dropped from the front. */
  const idempotencyRecords = new Map<string, IdempotencyRecord>();

  const sweep = setInterval(() => {
    for (const id of sessions.keys()) live(id);
  }, Math.max(1_000, Math.min(options.sessionTtlMs, 60_000)));
  sweep.unref();

  /** The session if it has not expired; an expired one is forgotten on the way. */
  function live(sessionId: string): MemorySession | undefined {
    const session = sessions.get(sessionId);
    if (session && session.expiresAt <= Date.now()) {
      sessions.delete(sessionId);
      return undefined;
    }
    return session;
  }

  function owned(ref: SessionRef): MemorySession {
    const session = live(ref.sessionId);
    if (!session || session.record.userId !== ref.userId) throw gatewayError('SESSION_NOT_FOUND', 'No such session.');
    return session;
  }

  function publish(ref: SessionRef, event: SessionEvent): void {
    for (const feed of feeds.get(channelKey(ref)) ?? []) feed.push(event);
  }

  function append(ref: SessionRef, session: MemorySession, event: RawEvent, now = Date.now()): SessionEvent {
    const logged: SessionEvent = { sessionId: ref.sessionId, seq: ++session.lastSeq, timestamp: now, ephemeral: false, event };
    session.history.push(logged);
    if (session.history.length > options.historyMaxEvents) session.history.shift();
    session.record.updatedAt = now;
    session.expiresAt = now + options.sessionTtlMs;
    publish(ref, logged);
    return logged;
  }

  function rememberedPublish(recordKey: string): IdempotencyRecord | undefined {
    const now = Date.now();
    for (const [key, record] of idempotencyRecords) {
      if (record.expiresAt > now) break;
      idempotencyRecords.delete(key);
    }
    const record = idempotencyRecords.get(recordKey);
    return record && record.expiresAt > now ? record : undefined;
  }

  // The same checks, in the same order, as the Redis Function: size, shape, key shape, the session, the key's record.
  async function appendAll(ref: SessionRef, events: RawEvent[], idempotencyKey = ''): Promise<Appended> {
    if (events.length === 0) throw gatewayError('BAD_USER_INPUT', 'a publish needs at least one event');
    if (events.length > options.maxPublishBatch) {
      throw gatewayError('BATCH_TOO_LARGE', `a batch holds at most ${options.maxPublishBatch} events, got ${events.length}`);
    }
    const valid = events.map((event, i) => {
      const label = events.length > 1 ? `events[${i}]: ` : '';
      assertJsonWithin(event, options.maxEventBytes, `${label}The event`);
      const validation = validateEvent(event, agentEventSchema);
      if (!validation.ok) throw gatewayError('BAD_USER_INPUT', label + validation.reason);
      return validation.event;
    });
    if (idempotencyKey) assertIdempotencyKey(idempotencyKey);
    // Ownership first, as in Redis; the creation time scopes a key to this incarnation of the session id.
    const session = owned(ref);
    const recordKey = `${ref.sessionId} ${session.record.createdAt} ${idempotencyKey}`;
    const fingerprint = idempotencyKey ? eventsFingerprint(valid.map((event) => JSON.stringify(event))) : '';
    if (idempotencyKey) {
      const seen = rememberedPublish(recordKey);
      if (seen && seen.fingerprint !== fingerprint) {
        throw gatewayError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used for other events');
      }
      if (seen) {
        const replayed = valid.map((event, i) => ({ sessionId: ref.sessionId, seq: seen.firstSeq + i, timestamp: seen.timestamp, ephemeral: false, event }));
        return { events: replayed, replayed: true };
      }
    }
    const now = Date.now();
    const logged = valid.map((event) => append(ref, session, event, now));
    if (idempotencyKey) {
      const record = { firstSeq: logged[0]!.seq, timestamp: now, fingerprint, expiresAt: now + options.idempotencyWindowMs };
      // Delete first: a key set again goes to the back, keeping the map in expiry order.
      idempotencyRecords.delete(recordKey);
      idempotencyRecords.set(recordKey, record);
    }
    return { events: logged, replayed: false };
  }

  return {
    async startSession(ref, started): Promise<StartSessionResult> {
      const existing = live(ref.sessionId);
      if (existing && existing.record.userId !== ref.userId) return { outcome: 'taken' };
      if (existing) {
        existing.expiresAt = Date.now() + options.sessionTtlMs;
        return { outcome: 'existing', session: { ...existing.record } };
      }
      const now = Date.now();
      const session: MemorySession = {
        record: { ...ref, createdAt: now, updatedAt: now },
        expiresAt: now + options.sessionTtlMs,
        history: [],
        lastSeq: 0,
      };
      sessions.set(ref.sessionId, session);
      // One clock reading, as in Redis: a new session's updatedAt is its createdAt.
      append(ref, session, started, now);
      return { outcome: 'created', session: { ...session.record } };
    },

    async getSession(sessionId) {
      const session = live(sessionId);
      return session ? { ...session.record } : null;
    },

    async sessionExists(sessionId) {
      return live(sessionId) !== undefined;
    },

    async append(ref, event) {
      return (await appendAll(ref, [event])).events[0]!;
    },

    appendAll,

    async submitRequest(ref, queued, job) {
      const session = owned(ref);
      jobs.push({ ...job });
      return append(ref, session, queued);
    },

    async endSession(ref, ended) {
      const session = owned(ref);
      const logged: SessionEvent = {
        sessionId: ref.sessionId,
        seq: session.lastSeq + 1,
        timestamp: Date.now(),
        ephemeral: false,
        event: ended,
      };
      publish(ref, logged);
      sessions.delete(ref.sessionId);
      return logged;
    },

    async read(ref, afterSeq, limit): Promise<HistoryPage> {
      const session = live(ref.sessionId);
      if (!session || session.record.userId !== ref.userId || session.history.length === 0) {
        return { events: [], firstSeq: 0, lastSeq: 0 };
      }
      const firstSeq = session.history[0]!.seq;
      const start = Math.max(0, afterSeq - firstSeq + 1);
      return { events: session.history.slice(start, start + limit), firstSeq, lastSeq: session.lastSeq };
    },

    async listen(ref, feed) {
      const topic = channelKey(ref);
      feeds.set(topic, withFeed(feeds.get(topic) ?? [], feed));
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        const left = withoutFeed(feeds.get(topic) ?? [], feed);
        if (left.length === 0) feeds.delete(topic);
        else feeds.set(topic, left);
      };
    },

    async takeJob() {
      return jobs.shift() ?? null;
    },

    isHealthy: () => true,

    async close() {
      clearInterval(sweep);
      feeds.clear();
    },
  };
}
