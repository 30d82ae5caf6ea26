/**
 * Following a session's progress across dropped connections, for any GraphQL client.
 *
 * `agentProgress(sessionId, requestId, after)` replays the retained history after the cursor `after`, then goes live,
 * each event exactly once in `seq` order. So a UI that keeps the `id` of the last durable event it received and,
 * after any reconnect, subscribes again with `after` set to that id, misses nothing and receives nothing twice.
 * This file is that bookkeeping and the reconnect policy, with no framework in it: `apollo.ts` and `urql.ts` plug a
 * client into `followWithResume`.
 *
 * Why the helper and not graphql-ws's own `retryAttempts`: graphql-ws resubscribes with the variables of the first
 * subscribe, so it would replay from the first cursor (duplicates, or CURSOR_EXPIRED once that cursor has aged out of
 * the history). Create the graphql-ws client with `retryAttempts: 0` and let this helper resubscribe.
 */

/** The fields of an event the helper reads; the generated `AgentEventFields` selects them. */
export interface CursorFields {
  id?: string | null;
  seq?: number | null;
  ephemeral?: boolean | null;
}

/** A GraphQL error as it arrives over the wire: branch on `extensions.code`, never on the message. */
export interface CodedError {
  message: string;
  extensions?: Readonly<Record<string, unknown>> | null | undefined;
}

export const codeOf = (error: CodedError): unknown => error.extensions?.['code'];

/**
 * The resume position: the id of the last durable event received, and its seq to drop anything at or before it.
 *
 * Live-only events (`ephemeral: true`, a plain Redis PUBLISH) are never stored: they repeat the seq and id of the
 * durable event before them and are never replayed. They are shown, but never move the cursor.
 */
export class ProgressCursor {
  private lastSeq: number | undefined;

  constructor(private lastId: string | undefined = undefined) {}

  /** What the next subscription passes as `after`: undefined until there is one (then the whole history replays). */
  get after(): string | undefined {
    return this.lastId;
  }

  /** Records a received event; false for a durable event at or before the cursor (already shown: drop it). */
  accept(event: CursorFields): boolean {
    if (event.ephemeral) return true;
    if (typeof event.seq === 'number') {
      if (this.lastSeq !== undefined && event.seq <= this.lastSeq) return false;
      this.lastSeq = event.seq;
    }
    if (event.id) this.lastId = event.id;
    return true;
  }
}

/** What one subscription attempt reports, translated from the client's own callbacks by an adapter. */
export interface AttemptSink<E> {
  event(event: E): void;
  /** The gateway completed the subscription: the session ended, or the followed request finished or failed. */
  completed(): void;
  /** The gateway refused the subscription, or ended it, with GraphQL errors. */
  failed(errors: readonly CodedError[]): void;
  /** The connection went away (the WebSocket's close code, when known). */
  dropped(closeCode?: number): void;
}

/** Starts one subscription after the cursor `after`, reporting to `sink`; returns the function that stops it. */
export type StartAttempt<E> = (after: string | undefined, sink: AttemptSink<E>) => () => void;

/** How following ended. */
export type FollowEnd =
  | { kind: 'completed' }
  /** CURSOR_EXPIRED or INVALID_CURSOR: the UI's list can no longer be continued. */
  | { kind: 'reload'; error: CodedError }
  | { kind: 'failed'; error: CodedError; closeCode?: number }
  | { kind: 'stopped' };

export interface FollowOptions<E> {
  start: StartAttempt<E>;
  /** Resume after this cursor (e.g. kept across a page reload); omit to receive the retained history first. */
  after?: string | undefined;
  /** Each event once, in order: durable ones and the live-only ones that arrived while connected. */
  onEvent(event: E): void;
  /**
   * The events after the cursor are gone from the history (CURSOR_EXPIRED), or the cursor is not one this session
   * issued (INVALID_CURSOR, e.g. after Redis lost its last writes). What the UI shows can no longer be completed:
   * tell the user and reload the session (follow again without `after`, replacing the list). Following has stopped.
   */
  onReload(error: CodedError): void;
  /** The session ended, or the followed request finished: nothing more will come. */
  onComplete?(): void;
  /** A refusal retrying cannot fix (SESSION_NOT_FOUND, FORBIDDEN, credentials refused …). Following has stopped. */
  onError?(error: CodedError, closeCode?: number): void;
  /** The connection dropped; the next attempt starts in `delayMs` (show "reconnecting…"). */
  onReconnecting?(attempt: number, delayMs: number): void;
  /** Delay before reconnect attempt `attempt` (1, 2, …; back to 1 once an event arrives). */
  retryDelayMs?(attempt: number): number;
}

export interface Follower {
  /** The cursor a resubscription would use now. */
  readonly cursor: string | undefined;
  /** Durable events that arrived at or before the cursor and were dropped (none, against this gateway). */
  readonly duplicates: number;
  /** Settles once following has ended, however it ended. */
  readonly done: Promise<FollowEnd>;
  stop(): void;
}

/** Cursor problems no retry fixes: the list must be reloaded. */
const RELOAD_CODES = new Set(['CURSOR_EXPIRED', 'INVALID_CURSOR']);

/**
 * Close codes after which reconnecting as-is cannot succeed: protocol violations (a client bug), a message too big,
 * and credentials the gateway refused (4403: sign in again). Everything else — 1001 a draining replica, 1006 a lost
 * connection, 4101 an expired token (the next connect sends a fresh one), 4102/4103 connection limits, 4500 — retries.
 */
const FATAL_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1010, 4400, 4401, 4403, 4406, 4409, 4429]);

/** GraphQL errors that a later attempt may not get: the store was unreachable or a replica was draining, an expired token. */
function retryable(error: CodedError): boolean {
  const code = codeOf(error);
  return code === 'UNAVAILABLE' || (code === 'UNAUTHENTICATED' && error.extensions?.['reason'] === 'TOKEN_EXPIRED');
}

/** 250 ms, doubling to 8 s, with jitter so a fleet of UIs does not reconnect in step after a replica goes away. */
export const defaultRetryDelayMs = (attempt: number): number => Math.min(8_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);

/**
 * Follows a session (or one request) until it completes, stops, or cannot go on: resubscribes with `after` set to
 * the cursor after every dropped connection, drops anything at or before the cursor, and reports a lost position
 * (`onReload`) instead of continuing past a hole.
 */
export function followWithResume<E extends CursorFields>(options: FollowOptions<E>): Follower {
  const cursor = new ProgressCursor(options.after);
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  let finish!: (end: FollowEnd) => void;
  const done = new Promise<FollowEnd>((resolve) => (finish = resolve));
  let ended = false;
  let failures = 0;
  let duplicates = 0;
  let stopAttempt: (() => void) | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const end = (how: FollowEnd) => {
    if (ended) return;
    ended = true;
    clearTimeout(retryTimer);
    stopAttempt?.();
    stopAttempt = undefined;
    finish(how);
    if (how.kind === 'completed') options.onComplete?.();
    else if (how.kind === 'reload') options.onReload(how.error);
    else if (how.kind === 'failed') options.onError?.(how.error, how.closeCode);
  };

  const reconnect = () => {
    stopAttempt?.();
    stopAttempt = undefined;
    failures += 1;
    const delayMs = retryDelayMs(failures);
    options.onReconnecting?.(failures, delayMs);
    retryTimer = setTimeout(attempt, delayMs);
  };

  function attempt() {
    // Each attempt reports through its own sink, which goes deaf once the attempt is over: a late callback from a
    // stopped subscription must not deliver or end anything.
    let over = false;
    const settle = (then: () => void) => {
      if (over || ended) return;
      over = true;
      then();
    };
    const stop = options.start(cursor.after, {
      event(event) {
        if (over || ended) return;
        failures = 0;
        if (cursor.accept(event)) options.onEvent(event);
        else duplicates += 1;
      },
      completed: () => settle(() => end({ kind: 'completed' })),
      failed: (errors) =>
        settle(() => {
          const error = errors.find((e) => RELOAD_CODES.has(codeOf(e) as string)) ?? errors[0] ?? { message: 'subscription failed' };
          if (RELOAD_CODES.has(codeOf(error) as string)) end({ kind: 'reload', error });
          else if (errors.length > 0 && errors.every(retryable)) reconnect();
          else end({ kind: 'failed', error });
        }),
      dropped: (closeCode) =>
        settle(() => {
          if (closeCode !== undefined && FATAL_CLOSE_CODES.has(closeCode)) {
            end({ kind: 'failed', error: { message: `the WebSocket closed with ${closeCode}` }, closeCode });
          } else {
            reconnect();
          }
        }),
    });
    // An attempt that settled while starting (a synchronous refusal) is stopped at once.
    if (over || ended) stop();
    else stopAttempt = stop;
  }

  attempt();
  return {
    get cursor() {
      return cursor.after;
    },
    get duplicates() {
      return duplicates;
    },
    done,
    stop: () => end({ kind: 'stopped' }),
  };
}
