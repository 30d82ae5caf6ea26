import type { GraphQLError } from 'graphql';
import type { EventLog } from '../bus/event-log.js';
import { gatewayError, isGatewayError } from '../errors.js';
import type { SessionEvent, SessionRef } from '../events/types.js';
import { SESSION_ENDED, TERMINAL_REQUEST_TYPES } from '../events/variants.js';
import { LiveQueue, type WaitingTaker } from './live-queue.js';

export interface FollowOptions {
  /** Deliver events after this seq; undefined starts with the oldest retained event. */
  afterSeq?: number | undefined;
  /** Only this request's events (and the session's end); completes after its RUN_FINISHED or RUN_FAILED. */
  requestId?: string | undefined;
  /** Events read from history per round trip. */
  pageSize: number;
  /** Live events buffered per subscriber before it falls back to history. */
  maxBuffered: number;
  /** How long a quiet subscription waits before checking that its session still exists (idle expiry). */
  idleCheckMs: number;
  /** When the subscriber's credential expires: the stream ends then with UNAUTHENTICATED (TOKEN_EXPIRED). */
  expiresAt?: number | undefined;
  /** Told what the stream does (metrics, logs); called synchronously, so it must be cheap and must not throw. */
  observer?: FollowObserver;
}

/**
 * Where a delivered event came from: the live feed, history (`initial` replay without a cursor, `resume` after
 * one, `refill` after lost live events), or the follower itself (`notice`: the end of a session found deleted or
 * expired).
 */
export type DeliverySource = 'live' | 'initial' | 'resume' | 'refill' | 'notice';

export interface FollowObserver {
  /** The stream started: its first item was asked for. A stream cancelled before that is neither opened nor closed. */
  opened(): void;
  /** `event` is about to be handed to the subscriber. */
  delivered(event: SessionEvent, source: DeliverySource): void;
  /** The stream ended: completed, failed, or its subscriber left. */
  closed(): void;
}

/** A subscriber receives events, or at most one error after which its stream ends. */
export type FollowItem = SessionEvent | { error: GraphQLError };

/** The stream's consumer, taking live events as they arrive (FollowStream.handLiveTo). */
export interface LiveTaker {
  /** Takes one live event synchronously, as it arrives; false declines it. */
  takeLive(event: SessionEvent): boolean;
}

export interface FollowStream extends AsyncIterableIterator<FollowItem> {
  /**
   * Lets the consumer take live events the moment they arrive, while the stream is caught up and waiting for the
   * next one: each event that simply continues the stream (the next seq, a live-only event) is offered to `taker`,
   * with the stream's own bookkeeping (seq, request filter, observer) done here. `taker` returns false to decline
   * (its last send has not left yet, say); the event then comes through `next()` as usual. Everything else (a gap,
   * the last event, the session's end, an overflow, an error) always comes through `next()`, and events never
   * overtake one another: nothing is offered while an earlier event is buffered or being handed out.
   *
   * Why: handed through `next()`, every event leaves behind, for the wait that follows, a new chain of promises
   * across the stream's async layers; with a session's events a second apart that chain outlives several garbage
   * collections, and at thousands of subscriptions its promotion to the old generation was most of the gateway's
   * collection work (bench/README.md). Taken here, an event leaves nothing behind.
   */
  handLiveTo(taker: LiveTaker): void;
}

/**
 * A session's events as one ordered stream: the retained history after the cursor, then live events, each
 * exactly once in `seq` order. Live delivery starts before history is read, so nothing published in between is
 * missed; live events already replayed are skipped; a jump in `seq` (dropped pub/sub messages, a full buffer) is
 * filled from history, and if history no longer holds the missing events the stream ends with CURSOR_EXPIRED
 * rather than a silent hole.
 */
export function followSession(log: EventLog, ref: SessionRef, options: FollowOptions): FollowStream {
  return new Follower(log, ref, options);
}

/**
 * followSession's stream. A class: one is held per running subscription, so what it needs per event lives in its
 * fields and prototype methods rather than in closures, and it keeps no AbortSignal (~900 bytes with its listener):
 * return() closes the live queue, which ends a wait in progress.
 */
class Follower implements FollowStream, WaitingTaker {
  private readonly queue: LiveQueue;
  private readonly events: AsyncGenerator<FollowItem, void>;
  /** The consumer's LiveTaker, once it has registered one. */
  private taker: LiveTaker | undefined;
  /** The seq of the last event delivered or passed over: the cursor. */
  private last: number;
  /** When an event last arrived while the live loop waited: the session is alive, whatever its idle timer says. */
  private lastArrivalAt = 0;

  constructor(
    private readonly log: EventLog,
    private readonly ref: SessionRef,
    private readonly options: FollowOptions,
  ) {
    this.queue = new LiveQueue(options.maxBuffered);
    this.last = options.afterSeq ?? 0;
    this.events = this.follow();
  }

  next(): Promise<IteratorResult<FollowItem, void>> {
    return this.events.next();
  }

  handLiveTo(taker: LiveTaker): void {
    this.taker = taker;
  }

  // A subscriber that leaves while we wait for the next live event must not wait for that event to clean up.
  return(value?: unknown): Promise<IteratorResult<FollowItem, void>> {
    this.queue.close();
    return this.events.return(value as undefined);
  }

  throw(error?: unknown): Promise<IteratorResult<FollowItem, void>> {
    this.queue.close();
    return this.events.throw(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /**
   * The live loop below, for the events it would deliver on without a second thought, run while it waits
   * (FollowStream.handLiveTo). The queue offers an event only while the loop waits with nothing buffered; the loop's
   * own deadlines (idle check, token expiry) still wake it when due.
   */
  takeWhileWaiting(event: SessionEvent): boolean {
    const { requestId } = this.options;
    this.lastArrivalAt = Date.now();
    const taker = this.taker;
    // Past the credential's expiry, even before its timer fired: the loop ends the stream.
    if (!taker || this.expiredAt(this.lastArrivalAt)) return false;
    if (event.ephemeral) {
      if (!isWanted(event, requestId)) return true;
      const shown = { ...event, seq: this.last };
      if (!taker.takeLive(shown)) return false;
      this.deliver(shown, 'live');
      return true;
    }
    if (event.seq <= this.last) return true;
    if (event.seq > this.last + 1 || isLast(event, requestId)) return false;
    if (!isWanted(event, requestId)) {
      this.last = event.seq;
      return true;
    }
    if (!taker.takeLive(event)) return false;
    this.last = event.seq;
    this.deliver(event, 'live');
    return true;
  }

  /** Whether the subscriber's credential has expired by `now` (never, without an expiry). */
  private expiredAt(now: number): boolean {
    return now >= (this.options.expiresAt ?? Infinity);
  }

  private deliver(event: SessionEvent, source: DeliverySource): SessionEvent {
    this.options.observer?.delivered(event, source);
    return event;
  }

  private async *follow(): AsyncGenerator<FollowItem, void> {
    const { log, ref, options, queue } = this;
    const { requestId, observer } = options;
    observer?.opened();
    let stopListening: () => void;
    try {
      stopListening = await log.listen(ref, queue);
    } catch (error) {
      observer?.closed();
      throw error;
    }
    try {
      // Without a cursor the first page may start wherever retained history starts; after that it must be contiguous.
      let contiguous = options.afterSeq !== undefined;
      let replay: DeliverySource = options.afterSeq === undefined ? 'initial' : 'resume';
      queue.taker = this;
      for (;;) {
        // Catch up from history.
        for (;;) {
          const page = await log.read(ref, this.last, options.pageSize);
          if (page.lastSeq === 0) {
            // The session was deleted (ended or expired). If its SESSION_ENDED reached the live feed, deliver that
            // one (possibly dropped from a full buffer): its seq shows the subscriber whether events were lost with
            // the history. Otherwise it ended before we listened, and only the end itself is known.
            const end = queue.sessionEnded;
            yield end && end.seq > this.last ? this.deliver(end, 'live') : this.deliver(endNotice(ref, 'ENDED', this.last), 'notice');
            return;
          }
          const first = page.events[0];
          // History ends before what we delivered: Redis lost acknowledged events (a crash between AOF syncs) and is
          // reusing their seqs. Resuming would silently skip the new events under those seqs.
          if (contiguous && page.lastSeq < this.last) {
            yield { error: gatewayError('CURSOR_EXPIRED', `The history was rewound below seq ${this.last}; reload the session.`) };
            return;
          }
          if (contiguous && page.lastSeq > this.last && first?.seq !== this.last + 1) {
            yield { error: gatewayError('CURSOR_EXPIRED', `Events after seq ${this.last} are no longer retained; reload the session.`) };
            return;
          }
          contiguous = true;
          for (const event of page.events) {
            this.last = event.seq;
            if (!isWanted(event, requestId)) continue;
            yield this.deliver(event, replay);
            if (isLast(event, requestId)) return;
          }
          if (page.events.length < options.pageSize) break;
        }
        replay = 'refill';

        // Then live, until a gap sends us back to history.
        for (;;) {
          const untilExpiry = (options.expiresAt ?? Infinity) - Date.now();
          if (untilExpiry <= 0) {
            yield { error: gatewayError('UNAUTHENTICATED', 'The token has expired.', { reason: 'TOKEN_EXPIRED' }) };
            return;
          }
          const item = await queue.take(Math.min(options.idleCheckMs, untilExpiry));
          if (item === 'closed') return;
          if (item === 'overflow') break;
          if (item === 'idle') {
            if (this.expiredAt(Date.now())) continue;
            // Quiet for the loop, not for the session: events arrived (and were taken) while it waited.
            if (Date.now() - this.lastArrivalAt < options.idleCheckMs) continue;
            if (!(await log.sessionExists(ref.sessionId).catch(() => true))) {
              yield this.deliver(endNotice(ref, 'EXPIRED', this.last), 'notice');
              return;
            }
            continue;
          }
          // An event that arrives past the expiry, before its timer fired, is not delivered: the stream ends above.
          if (this.expiredAt(Date.now())) continue;
          if (item.ephemeral) {
            if (isWanted(item, requestId)) yield this.deliver({ ...item, seq: this.last }, 'live');
            continue;
          }
          if (item.seq <= this.last) continue;
          if (item.seq > this.last + 1) {
            // The history of an ended session is deleted with it: nothing left to fill the gap from.
            if (item.event.type === SESSION_ENDED) {
              yield this.deliver(item, 'live');
              return;
            }
            break;
          }
          this.last = item.seq;
          if (!isWanted(item, requestId)) continue;
          yield this.deliver(item, 'live');
          if (isLast(item, requestId)) return;
        }
      }
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      yield { error };
    } finally {
      stopListening();
      queue.close();
      observer?.closed();
    }
  }
}

/** Whether a subscriber to `requestId` (or to the whole session) is shown the event. */
function isWanted(event: SessionEvent, requestId: string | undefined): boolean {
  return !requestId || event.event.requestId === requestId || event.event.type === SESSION_ENDED;
}

/** Whether the stream ends after the event: the session's end, or the end of the followed request. */
function isLast(event: SessionEvent, requestId: string | undefined): boolean {
  return event.event.type === SESSION_ENDED || (requestId !== undefined && event.event.requestId === requestId && TERMINAL_REQUEST_TYPES.has(event.event.type));
}

/** The follower's own SESSION_ENDED, for a session found deleted or expired: live-only, under the cursor's seq. */
function endNotice(ref: SessionRef, reason: string, seq: number): SessionEvent {
  return { sessionId: ref.sessionId, seq, timestamp: Date.now(), ephemeral: true, event: { type: SESSION_ENDED, reason } };
}
