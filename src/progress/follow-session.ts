import type { GraphQLError } from 'graphql';
import type { EventLog } from '../bus/event-log.js';
import { gatewayError, isGatewayError } from '../errors.js';
import type { SessionEvent, SessionRef } from '../events/types.js';
import { SESSION_ENDED, TERMINAL_REQUEST_TYPES } from '../events/variants.js';
import { LiveQueue } from './live-queue.js';

export interface FollowOptions {
  /** Deliver events after this seq; undefined starts with the oldest retained event. */
  afterSeq?: number;
  /** Only this request's events (and the session's end); completes after its RUN_FINISHED or RUN_FAILED. */
  requestId?: string;
  /** Events read from history per round trip. */
  pageSize: number;
  /** Live events buffered per subscriber before it falls back to history. */
  maxBuffered: number;
  /** How long a quiet subscription waits before checking that its session still exists (idle expiry). */
  idleCheckMs: number;
  /** When the subscriber's credential expires: the stream ends then with UNAUTHENTICATED (TOKEN_EXPIRED). */
  expiresAt?: number;
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

/** Takes one live event synchronously, as it arrives; false declines it (see FollowStream.takeLive). */
export type LiveTaker = (event: SessionEvent) => boolean;

export interface FollowStream extends AsyncIterableIterator<FollowItem> {
  /**
   * Lets the consumer take live events the moment they arrive, while the stream is caught up and waiting for the
   * next one: each event that simply continues the stream (the next seq, a live-only event) is offered to `take`,
   * with the stream's own bookkeeping (seq, request filter, observer) done here. `take` returns false to decline
   * (its last send has not left yet, say); the event then comes through `next()` as usual. Everything else (a gap,
   * the last event, the session's end, an overflow, an error) always comes through `next()`, and events never
   * overtake one another: nothing is offered while an earlier event is buffered or being handed out.
   *
   * Why: handed through `next()`, every event leaves behind, for the wait that follows, a new chain of promises
   * across the stream's async layers; with a session's events a second apart that chain outlives several garbage
   * collections, and at thousands of subscriptions its promotion to the old generation was most of the gateway's
   * collection work (bench/README.md). Taken here, an event leaves nothing behind.
   */
  takeLive(take: LiveTaker): void;
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

/** followSession's stream. A class: one is held per running subscription, and prototype methods cost it nothing. */
class Follower implements FollowStream {
  private readonly abort = new AbortController();
  private readonly consumer: LiveConsumer = {};
  private readonly events: AsyncGenerator<FollowItem, void>;

  constructor(log: EventLog, ref: SessionRef, options: FollowOptions) {
    this.events = follow(log, ref, options, this.abort.signal, this.consumer);
  }

  next(): Promise<IteratorResult<FollowItem, void>> {
    return this.events.next();
  }

  takeLive(take: LiveTaker): void {
    this.consumer.take = take;
  }

  // A subscriber that leaves while we wait for the next live event must not wait for that event to clean up.
  return(value?: unknown): Promise<IteratorResult<FollowItem, void>> {
    this.abort.abort();
    return this.events.return(value as undefined);
  }

  throw(error?: unknown): Promise<IteratorResult<FollowItem, void>> {
    this.abort.abort();
    return this.events.throw(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** The consumer's LiveTaker, once it has registered one. */
interface LiveConsumer {
  take?: LiveTaker;
}

async function* follow(log: EventLog, ref: SessionRef, options: FollowOptions, signal: AbortSignal, consumer: LiveConsumer): AsyncGenerator<FollowItem, void> {
  const { requestId, observer } = options;
  const deliver = (event: SessionEvent, source: DeliverySource) => {
    observer?.delivered(event, source);
    return event;
  };
  const wanted = (e: SessionEvent) => !requestId || e.event.requestId === requestId || e.event.type === SESSION_ENDED;
  const isLast = (e: SessionEvent) =>
    e.event.type === SESSION_ENDED || (requestId !== undefined && e.event.requestId === requestId && TERMINAL_REQUEST_TYPES.has(e.event.type));
  const ended = (reason: string, seq: number): SessionEvent => ({
    sessionId: ref.sessionId,
    seq,
    timestamp: Date.now(),
    ephemeral: true,
    event: { type: SESSION_ENDED, reason },
  });

  observer?.opened();
  const queue = new LiveQueue(options.maxBuffered);
  let stopListening: () => void;
  try {
    stopListening = await log.listen(
      ref,
      (event) => queue.push(event),
      () => queue.resync(),
    );
  } catch (error) {
    observer?.closed();
    throw error;
  }
  try {
    let last = options.afterSeq ?? 0;
    // Without a cursor the first page may start wherever retained history starts; after that it must be contiguous.
    let contiguous = options.afterSeq !== undefined;
    let replay: DeliverySource = options.afterSeq === undefined ? 'initial' : 'resume';
    // When an event last arrived while the live loop waited: the session is alive, whatever its idle timer says.
    let lastArrivalAt = 0;
    // The live loop below, for the events it would deliver on without a second thought, run while it waits
    // (FollowStream.takeLive). The queue offers an event only while the loop waits with nothing buffered; the
    // loop's own deadlines (idle check, token expiry) still wake it when due.
    queue.takeWhileWaiting = (event) => {
      lastArrivalAt = Date.now();
      const take = consumer.take;
      // Past the credential's expiry, even before its timer fired: the loop ends the stream.
      if (!take || lastArrivalAt >= (options.expiresAt ?? Infinity)) return false;
      if (event.ephemeral) {
        if (!wanted(event)) return true;
        const shown = { ...event, seq: last };
        if (!take(shown)) return false;
        deliver(shown, 'live');
        return true;
      }
      if (event.seq <= last) return true;
      if (event.seq > last + 1 || isLast(event)) return false;
      if (!wanted(event)) {
        last = event.seq;
        return true;
      }
      if (!take(event)) return false;
      last = event.seq;
      deliver(event, 'live');
      return true;
    };
    for (;;) {
      // Catch up from history.
      for (;;) {
        const page = await log.read(ref, last, options.pageSize);
        if (page.lastSeq === 0) {
          // The session was deleted (ended or expired). If its SESSION_ENDED reached the live feed, deliver that one
          // (possibly dropped from a full buffer): its seq shows the subscriber whether events were lost with the
          // history. Otherwise it ended before we listened, and only the end itself is known.
          const end = queue.sessionEnded;
          yield end && end.seq > last ? deliver(end, 'live') : deliver(ended('ENDED', last), 'notice');
          return;
        }
        const first = page.events[0];
        // History ends before what we delivered: Redis lost acknowledged events (a crash between AOF syncs) and is
        // reusing their seqs. Resuming would silently skip the new events under those seqs.
        if (contiguous && page.lastSeq < last) {
          yield { error: gatewayError('CURSOR_EXPIRED', `The history was rewound below seq ${last}; reload the session.`) };
          return;
        }
        if (contiguous && page.lastSeq > last && first?.seq !== last + 1) {
          yield { error: gatewayError('CURSOR_EXPIRED', `Events after seq ${last} are no longer retained; reload the session.`) };
          return;
        }
        contiguous = true;
        for (const event of page.events) {
          last = event.seq;
          if (!wanted(event)) continue;
          yield deliver(event, replay);
          if (isLast(event)) return;
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
        const item = await queue.take(Math.min(options.idleCheckMs, untilExpiry), signal);
        if (item === 'aborted') return;
        if (item === 'overflow') break;
        if (item === 'idle') {
          if (Date.now() >= (options.expiresAt ?? Infinity)) continue;
          // Quiet for the loop, not for the session: events arrived (and were taken) while it waited.
          if (Date.now() - lastArrivalAt < options.idleCheckMs) continue;
          if (!(await log.sessionExists(ref.sessionId).catch(() => true))) {
            yield deliver(ended('EXPIRED', last), 'notice');
            return;
          }
          continue;
        }
        // An event that arrives past the expiry, before its timer fired, is not delivered: the stream ends above.
        if (Date.now() >= (options.expiresAt ?? Infinity)) continue;
        if (item.ephemeral) {
          if (wanted(item)) yield deliver({ ...item, seq: last }, 'live');
          continue;
        }
        if (item.seq <= last) continue;
        if (item.seq > last + 1) {
          // The history of an ended session is deleted with it: nothing left to fill the gap from.
          if (item.event.type === SESSION_ENDED) {
            yield deliver(item, 'live');
            return;
          }
          break;
        }
        last = item.seq;
        if (!wanted(item)) continue;
        yield deliver(item, 'live');
        if (isLast(item)) return;
      }
    }
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    yield { error };
  } finally {
    stopListening();
    queue.dispose();
    observer?.closed();
  }
}
