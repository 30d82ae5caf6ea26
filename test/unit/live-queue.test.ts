import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionEvent } from '../../src/events/types.js';
import { LiveQueue } from '../../src/progress/live-queue.js';

function event(seq: number): SessionEvent {
  return { sessionId: 's1', seq, timestamp: 1_700_000_000_000 + seq, ephemeral: false, event: { type: 'PROGRESS', percent: seq % 101 } };
}

const IDLE_MS = 1_000;

describe('LiveQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out buffered events in push order', async () => {
    const queue = new LiveQueue(10);
    for (const seq of [1, 2, 3, 4, 5]) queue.push(event(seq));
    const taken = [];
    for (let i = 0; i < 5; i++) taken.push(await queue.take(IDLE_MS));
    expect(taken).toEqual([1, 2, 3, 4, 5].map(event));
  });

  it('wakes a waiting reader when an event arrives, without waiting for the idle timer, which it keeps for later waits', async () => {
    const queue = new LiveQueue(10);
    const taking = queue.take(IDLE_MS);
    expect(vi.getTimerCount()).toBe(1);
    queue.push(event(7));
    await expect(taking).resolves.toEqual(event(7));
    // One idle timer per queue, re-armed when it fires, not one per wait; close() stops it.
    expect(vi.getTimerCount()).toBe(1);
    queue.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds exactly `capacity` events without overflowing', async () => {
    const queue = new LiveQueue(3);
    for (const seq of [1, 2, 3]) queue.push(event(seq));
    expect(await queue.take(IDLE_MS)).toEqual(event(1));
    expect(await queue.take(IDLE_MS)).toEqual(event(2));
    expect(await queue.take(IDLE_MS)).toEqual(event(3));
  });

  it('reports overflow once when pushed beyond capacity, dropping the backlog, then continues with later events', async () => {
    const queue = new LiveQueue(3);
    for (let seq = 1; seq <= 10; seq++) queue.push(event(seq)); // overflows at 4 and again at 8
    expect(await queue.take(IDLE_MS)).toBe('overflow');
    // What was pushed after the last overflow is kept, in order; nothing earlier comes back.
    expect(await queue.take(IDLE_MS)).toEqual(event(9));
    expect(await queue.take(IDLE_MS)).toEqual(event(10));
    // Reported once only: the next wait is an ordinary one.
    const next = queue.take(IDLE_MS);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    await expect(next).resolves.toBe('idle');
    queue.push(event(11));
    expect(await queue.take(IDLE_MS)).toEqual(event(11));
  });

  it('reports an overflow that happens while the reader waits', async () => {
    const queue = new LiveQueue(1);
    queue.push(event(1));
    expect(await queue.take(IDLE_MS)).toEqual(event(1));
    const taking = queue.take(IDLE_MS);
    queue.push(event(2));
    await expect(taking).resolves.toEqual(event(2));
    queue.push(event(3));
    queue.push(event(4)); // beyond capacity 1
    await expect(queue.take(IDLE_MS)).resolves.toBe('overflow');
  });

  it('reports a resync like an overflow, keeping the buffered events, and wakes a waiting reader', async () => {
    const queue = new LiveQueue(10);
    const taking = queue.take(IDLE_MS);
    queue.resync();
    await expect(taking).resolves.toBe('overflow');
    queue.push(event(5));
    queue.resync();
    expect(await queue.take(IDLE_MS)).toBe('overflow');
    expect(await queue.take(IDLE_MS)).toEqual(event(5));
  });

  it("remembers the session's durable SESSION_ENDED even when an overflow drops it", async () => {
    const queue = new LiveQueue(2);
    expect(queue.sessionEnded).toBeUndefined();
    queue.push({ ...event(1), ephemeral: true, event: { type: 'SESSION_ENDED', reason: 'ENDED' } }); // live-only: not the end
    expect(queue.sessionEnded).toBeUndefined();
    queue.push(event(2));
    const end: SessionEvent = { ...event(3), event: { type: 'SESSION_ENDED', reason: 'ENDED' } };
    queue.push(end); // beyond capacity: dropped with the backlog
    expect(await queue.take(IDLE_MS)).toBe('overflow');
    expect(queue.sessionEnded).toEqual(end);
  });

  it('answers idle when nothing arrives within idleMs, and not before', async () => {
    const queue = new LiveQueue(10);
    let settled: unknown;
    const taking = queue.take(IDLE_MS).then((value) => (settled = value));
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await taking;
    expect(settled).toBe('idle');
    // Idle is a signal, not an end: the queue still works afterwards.
    queue.push(event(1));
    expect(await queue.take(IDLE_MS)).toEqual(event(1));
  });

  it('answers closed at once once closed, even with events buffered', async () => {
    const queue = new LiveQueue(10);
    queue.push(event(1));
    queue.close();
    await expect(queue.take(IDLE_MS)).resolves.toBe('closed');
  });

  it('answers closed as soon as it is closed while the reader waits, leaving no timer behind', async () => {
    const queue = new LiveQueue(10);
    const taking = queue.take(IDLE_MS);
    expect(vi.getTimerCount()).toBe(1);
    queue.close();
    await expect(taking).resolves.toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one idle timer however many waits, and still reports idle waits', async () => {
    const queue = new LiveQueue(10);
    const outcomes = [];
    for (let seq = 1; seq <= 50; seq++) {
      const taking = queue.take(IDLE_MS);
      if (seq % 2 === 0) queue.push(event(seq));
      else await vi.advanceTimersByTimeAsync(IDLE_MS);
      outcomes.push(await taking);
      expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
    }
    expect(outcomes.filter((outcome) => outcome === 'idle')).toHaveLength(25);
    queue.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('offers its taker only what arrives while the reader waits with nothing buffered, and nothing once closed', async () => {
    const queue = new LiveQueue(10);
    const offered: number[] = [];
    let accept = true;
    queue.taker = {
      takeWhileWaiting(e) {
        offered.push(e.seq);
        return accept;
      },
    };
    queue.push(event(1)); // nobody waits: buffered, not offered
    expect(await queue.take(IDLE_MS)).toEqual(event(1));
    const taking = queue.take(IDLE_MS);
    queue.push(event(2)); // taken by the taker: the wait goes on
    accept = false;
    queue.push(event(3)); // declined: it wakes the reader
    await expect(taking).resolves.toEqual(event(3));
    expect(offered).toEqual([2, 3]);
    const last = queue.take(IDLE_MS);
    queue.close();
    queue.push(event(4));
    await expect(last).resolves.toBe('closed');
    expect(offered).toEqual([2, 3]);
  });
});
