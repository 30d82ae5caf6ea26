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
  private wake: (() => void) | undefined;
  private ended: SessionEvent | undefined;

  constructor(private readonly capacity: number) {}

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
    if (this.items.length >= this.capacity) {
      this.items = [];
      this.overflowed = true;
    } else {
      this.items.push(event);
    }
    this.wake?.();
  }

  /** Live events may have been lost upstream: the reader should catch up from history (reported as `overflow`). */
  resync(): void {
    this.overflowed = true;
    this.wake?.();
  }

  /** The next event; `idle` when none came within `idleMs`; `aborted` once the signal fires. */
  async take(idleMs: number, signal: AbortSignal): Promise<SessionEvent | QueueSignal> {
    for (;;) {
      if (signal.aborted) return 'aborted';
      if (this.overflowed) {
        this.overflowed = false;
        return 'overflow';
      }
      const next = this.items.shift();
      if (next) return next;
      const woken = await this.waitForPush(idleMs, signal);
      if (!woken && !signal.aborted) return 'idle';
    }
  }

  private waitForPush(idleMs: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(woken);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), idleMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done(true);
    });
  }
}
