import type { SessionEvent } from '../events/types.js';
import { SESSION_ENDED } from '../events/variants.js';

/** What waiting on the queue can yield besides an event. */
export type QueueSignal = 'overflow' | 'idle' | 'aborted';

/**
 * Buffers a subscriber's live events while it catches up from history or while its client reads slowly.
 * Bounded: when full it drops everything and reports `overflow` once, so the reader refills from history by
 * `seq` instead of the process holding an unbounded backlog. Only live-only events can be lost that way.
 */
export class LiveQueue {
  private items: SessionEvent[] = [];
  private overflowed = false;
  private ended: SessionEvent | undefined;

  constructor(private readonly capacity: number) {}

  /**
   * Offered each event that arrives while the reader waits with nothing buffered; returning true takes it, and the
   * reader is not woken (follow-session.ts delivers the common live event this way, without a turn of its
   * iterators). Returning false leaves the event to be buffered and taken as usual.
   */
  takeWhileWaiting: ((event: SessionEvent) => boolean) | undefined;

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
    if (this.settle && this.items.length === 0 && !this.overflowed && this.takeWhileWaiting?.(event)) return;
    if (this.items.length >= this.capacity) {
      this.items = [];
      this.overflowed = true;
    } else {
      this.items.push(event);
    }
    this.settle?.(true);
  }

  /** Live events may have been lost upstream: the reader should catch up from history (reported as `overflow`). */
  resync(): void {
    this.overflowed = true;
    this.settle?.(true);
  }

  /** Stops the idle timer: the reader is gone. */
  dispose(): void {
    this.takeWhileWaiting = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.settle?.(false);
  }

  /** The next event; `idle` when none came within `idleMs`; `aborted` once the signal fires. */
  async take(idleMs: number, signal: AbortSignal): Promise<SessionEvent | QueueSignal> {
    this.watch(signal);
    for (;;) {
      if (signal.aborted) return 'aborted';
      if (this.overflowed) {
        this.overflowed = false;
        return 'overflow';
      }
      const next = this.items.shift();
      if (next) return next;
      const woken = await this.waitForPush(idleMs);
      if (!woken && !signal.aborted) return 'idle';
    }
  }

  // Taking is the hot loop (once per event per subscriber): it allocates one promise and nothing else. The abort
  // listener is added once per signal, and one idle timer per queue is re-armed only when it fires, rather than a
  // timer and a listener made and dropped for every event.
  private watched: AbortSignal | undefined;
  private waitingSince = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleMs = 0;

  private watch(signal: AbortSignal): void {
    if (this.watched === signal) return;
    this.watched = signal;
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        this.settle?.(false);
      },
      { once: true },
    );
  }

  /** Resolves the pending wait: true when an event (or overflow) woke it, false when idle or aborted. */
  private settle: ((woken: boolean) => void) | undefined;

  private waitForPush(idleMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.waitingSince = Date.now();
      this.idleMs = idleMs;
      this.settle = (woken) => {
        this.settle = undefined;
        resolve(woken);
      };
      if (!this.idleTimer) this.armIdleTimer(idleMs);
    });
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.settle || this.watched?.aborted) return;
      const left = this.waitingSince + this.idleMs - Date.now();
      if (left <= 0) this.settle(false);
      else this.armIdleTimer(left);
    }, ms);
  }
}
