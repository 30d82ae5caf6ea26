import type { SessionEvent } from '../events/types.js';
import { SESSION_ENDED } from '../events/variants.js';

/** What waiting on the queue can yield besides an event. */
export type QueueSignal = 'overflow' | 'idle' | 'closed';

/** Takes a live event the moment it arrives, while the reader waits with nothing buffered (LiveQueue.taker). */
export interface WaitingTaker {
  /** True takes the event (the reader is not woken for it); false leaves it to be buffered and taken as usual. */
  takeWhileWaiting(event: SessionEvent): boolean;
}

/**
 * Buffers a subscriber's live events while it catches up from history or while its client reads slowly.
 * Bounded: when full it drops everything and reports `overflow` once, so the reader refills from history by
 * `seq` instead of the process holding an unbounded backlog. Only live-only events can be lost that way.
 *
 * One is held for every running subscription, so it keeps no closures, listeners or signals of its own (an
 * AbortSignal with its listener costs ~900 bytes): the reader ends its waits with close(), and the idle timer's
 * callback is shared by every queue.
 */
export class LiveQueue {
  private items: SessionEvent[] = [];
  private overflowed = false;
  private closed = false;
  private ended: SessionEvent | undefined;

  constructor(private readonly capacity: number) {}

  /**
   * Offered each event that arrives while the reader waits with nothing buffered (follow-session.ts delivers the
   * common live event this way, without a turn of its iterators).
   */
  taker: WaitingTaker | undefined;

  /**
   * The session's durable SESSION_ENDED once it has arrived, even if an overflow dropped it: the session's history
   * is deleted with it, so a reader refilling from history finds nothing and needs this event's seq to tell
   * whether it missed anything before the end.
   */
  get sessionEnded(): SessionEvent | undefined {
    return this.ended;
  }

  push(event: SessionEvent): void {
    if (!event.ephemeral && event.event.type === SESSION_ENDED) this.ended = event;
    // The wait goes on: its timer still ends it when due (the reader's deadlines do not move for taken events).
    if (this.wake && this.items.length === 0 && !this.overflowed && this.taker?.takeWhileWaiting(event)) return;
    if (this.items.length >= this.capacity) {
      this.items = [];
      this.overflowed = true;
    } else {
      this.items.push(event);
    }
    this.settle(true);
  }

  /** Live events may have been lost upstream: the reader should catch up from history (reported as `overflow`). */
  resync(): void {
    this.overflowed = true;
    this.settle(true);
  }

  /** The reader is gone: a wait in progress and every later take() answer `closed`; the idle timer stops. */
  close(): void {
    this.closed = true;
    this.taker = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.settle(false);
  }

  /** The next event; `idle` when none came within `idleMs`; `closed` once close() was called. */
  async take(idleMs: number): Promise<SessionEvent | QueueSignal> {
    for (;;) {
      if (this.closed) return 'closed';
      if (this.overflowed) {
        this.overflowed = false;
        return 'overflow';
      }
      const next = this.items.shift();
      if (next) return next;
      const woken = await this.waitForPush(idleMs);
      if (!woken && !this.closed) return 'idle';
    }
  }

  // Taking is the hot loop (once per event per subscriber): it allocates one promise and nothing else. One idle
  // timer per queue is re-armed only when it fires, rather than a timer made and dropped for every event.
  private waitingSince = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  /** The pending wait's resolve: true when an event (or overflow) woke it, false when idle or closed. */
  private wake: ((woken: boolean) => void) | undefined;

  private settle(woken: boolean): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.(woken);
  }

  private waitForPush(idleMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.waitingSince = Date.now();
      this.idleMs = idleMs;
      this.wake = resolve;
      if (!this.idleTimer) this.armIdleTimer(idleMs);
    });
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(LiveQueue.idleTimerFired, ms, this);
  }

  private static idleTimerFired(queue: LiveQueue): void {
    queue.idleTimer = undefined;
    if (!queue.wake || queue.closed) return;
    const left = queue.waitingSince + queue.idleMs - Date.now();
    if (left <= 0) queue.settle(false);
    else queue.armIdleTimer(left);
  }
}
