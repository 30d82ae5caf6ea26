import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/limits/rate-limiter.js';

function clocked(ratePerSecond: number, burst: number) {
  let time = 1_000_000;
  const limiter = createRateLimiter({ ratePerSecond, burst, now: () => time });
  return { limiter, advance: (ms: number) => (time += ms) };
}

describe('createRateLimiter', () => {
  it('allows a burst, then one call per 1/rate seconds, telling how long to wait', () => {
    const { limiter, advance } = clocked(10, 3);
    expect([limiter.take('s'), limiter.take('s'), limiter.take('s')]).toEqual([0, 0, 0]);
    expect(limiter.take('s')).toBe(100);
    advance(40);
    expect(limiter.take('s')).toBe(60);
    advance(60);
    expect(limiter.take('s')).toBe(0);
    expect(limiter.take('s')).toBe(100);
  });

  it('refills up to the burst and no further', () => {
    const { limiter, advance } = clocked(10, 2);
    limiter.take('s');
    limiter.take('s');
    advance(60_000);
    expect([limiter.take('s'), limiter.take('s'), limiter.take('s')]).toEqual([0, 0, 100]);
  });

  it('charges a batch its size, and a batch larger than the bucket a full bucket', () => {
    const { limiter, advance } = clocked(10, 5);
    expect(limiter.take('s', 4)).toBe(0);
    expect(limiter.take('s', 3)).toBe(200);
    advance(200);
    expect(limiter.take('s', 3)).toBe(0);
    advance(60_000);
    expect(limiter.take('s', 50)).toBe(0);
    expect(limiter.take('s', 50)).toBe(500);
  });

  it('keeps one bucket per key', () => {
    const { limiter } = clocked(1, 1);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1000);
    expect(limiter.take('b')).toBe(0);
  });

  it('never refuses with a rate of 0 (off)', () => {
    const { limiter } = clocked(0, 1);
    for (let i = 0; i < 1000; i++) expect(limiter.take('s')).toBe(0);
  });

  it('sweeps idle keys without forgetting a busy one', () => {
    const { limiter, advance } = clocked(1, 1);
    for (let i = 0; i < 5000; i++) limiter.take(`idle${i}`);
    advance(1000);
    expect(limiter.take('busy')).toBe(0);
    // Enough new keys to trigger sweeps, all at the same instant: every idle bucket is full again, 'busy' is not.
    for (let i = 0; i < 20_000; i++) limiter.take(`new${i}`);
    expect(limiter.take('busy')).toBe(1000);
    expect(limiter.take('idle0')).toBe(0);
  });
});
