import type { RawEvent, SessionEvent, SessionRef } from '../events/types.js';

export interface SessionRecord {
  sessionId: string;
  userId: string;
  createdAt: number;
  updatedAt: number;
}

export type StartSessionResult =
  | { outcome: 'created' | 'existing'; session: SessionRecord }
  /** Another user owns a session with this id. */
  | { outcome: 'taken' };

/** A slice of a session's retained history. `firstSeq`/`lastSeq` bound what is retained (0 when nothing is). */
export interface HistoryPage {
  events: SessionEvent[];
  firstSeq: number;
  lastSeq: number;
}

export interface Appended {
  events: SessionEvent[];
  /** True when an idempotency key answered an earlier publish of the same events: nothing new was appended. */
  replayed: boolean;
}

/**
 * What listens to a session's live feed. An object rather than callbacks: a follower listens for as long as its
 * subscription runs, and its queue takes the feed itself, with no closure per subscription.
 */
export interface LiveFeed {
  /** Each message of the session's live feed, in publish order. */
  push(event: SessionEvent): void;
  /** Live messages may have been lost (the pub/sub connection was re-established): catch up from history. */
  resync?(): void;
}

/**
 * A channel's feeds, replaced rather than changed when a feed comes or goes: a message being handed out goes on
 * over the list it started with, so a feed that stops from inside its `push` does not make the next one miss it.
 * The same feed listening twice is in the list twice, and each stop removes one.
 */
export type FeedList = readonly LiveFeed[];

export function withFeed(feeds: FeedList, feed: LiveFeed): FeedList {
  return [...feeds, feed];
}

export function withoutFeed(feeds: FeedList, feed: LiveFeed): FeedList {
  const at = feeds.indexOf(feed);
  return at < 0 ? feeds : feeds.filter((_, i) => i !== at);
}

/**
 * Where sessions, their event history and the request queue live: in this process (embedded) or in Redis.
 * Every method that changes a session appends to its history and publishes on its live feed in one atomic step,
 * so a reader that sees an event's seq on the live feed finds every earlier seq in the history.
 * Methods that name a missing session throw a `SESSION_NOT_FOUND` gateway error.
 */
export interface EventLog {
  /** Creates the session with a `SESSION_STARTED` event, or finds the caller's existing one. */
  startSession(ref: SessionRef, started: RawEvent): Promise<StartSessionResult>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Whether the session still exists: for idle checks, which can wait. The Redis store answers within ~100 ms,
   * batching the checks of that window into one round trip.
   */
  sessionExists(sessionId: string): Promise<boolean>;
  /** Appends an agent's event and publishes it; validates it as the raw-format function does. */
  append(ref: SessionRef, event: RawEvent): Promise<SessionEvent>;
  /**
   * Appends agent events atomically, with consecutive seqs and one timestamp, and publishes them in order (all or
   * none; at most `maxPublishBatch`). With an idempotency key already used on this session within the window for
   * the same events, appends nothing and answers the original events (`replayed`); for other events it throws
   * `IDEMPOTENCY_KEY_REUSED`.
   */
  appendAll(ref: SessionRef, events: RawEvent[], idempotencyKey?: string): Promise<Appended>;
  /** Queues a job for the agents and logs its `REQUEST_QUEUED` event, atomically. */
  submitRequest(ref: SessionRef, queued: RawEvent, job: object): Promise<SessionEvent>;
  /** Publishes `SESSION_ENDED` with the next seq, then deletes the session and its history. */
  endSession(ref: SessionRef, ended: RawEvent): Promise<SessionEvent>;
  /** Up to `limit` retained events with seq greater than `afterSeq`. */
  read(ref: SessionRef, afterSeq: number, limit: number): Promise<HistoryPage>;
  /** Starts live delivery to `feed`; resolves once delivery is in effect, with the function that stops it. */
  listen(ref: SessionRef, feed: LiveFeed): Promise<() => void>;
  /** Takes the oldest queued job, for in-process workers; agents on Redis pop the Redis list instead. */
  takeJob(): Promise<Record<string, unknown> | null>;
  /** True while the backing store answers (readiness). */
  isHealthy(): boolean;
  close(): Promise<void>;
}
