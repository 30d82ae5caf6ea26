export interface RateLimiterOptions {
  /** Tokens added per second; 0 turns the limiter off. */
  ratePerSecond: number;
  /** Bucket size: how many calls may come at once after a quiet spell. */
  burst: number;
  /** The clock, in milliseconds. */
  now?: () => number;
}

export interface RateLimiter {
  /**
   * Takes `cost` tokens from `key`'s bucket: 0 when there were enough, else the milliseconds until there will be.
   * A cost above the bucket size is charged as the full bucket, so a large batch waits for a full bucket, not forever.
   */
  take(key: string, cost?: number): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before idle ones are swept; a sweep runs when the map has doubled since the last. */
const MIN_SWEEP_SIZE = 1024;

/** A token bucket per key, in this process's memory. */
export function createRateLimiter({ ratePerSecond, burst, now = Date.now }: RateLimiterOptions): RateLimiter {
  if (ratePerSecond <= 0) return { take: () => 0 };
  const perMs = ratePerSecond / 1000;
  const buckets = new Map<string, Bucket>();
  let sweepAt = MIN_SWEEP_SIZE;
  const refilled = (bucket: Bucket, time: number) => Math.min(burst, bucket.tokens + (time - bucket.at) * perMs);

  // A full bucket is the same as none: forget it, so memory follows the busy keys, not every key ever seen.
  function sweep(time: number) {
    for (const [key, bucket] of buckets) if (refilled(bucket, time) >= burst) buckets.delete(key);
    sweepAt = Math.max(MIN_SWEEP_SIZE, buckets.size * 2);
  }

  return {
    take(key, cost = 1) {
      const needed = Math.min(cost, burst);
      const time = now();
      if (buckets.size >= sweepAt) sweep(time);
      const bucket = buckets.get(key) ?? { tokens: burst, at: time };
      bucket.tokens = refilled(bucket, time);
      bucket.at = time;
      buckets.set(key, bucket);
      if (bucket.tokens >= needed) {
        bucket.tokens -= needed;
        return 0;
      }
      return Math.ceil((needed - bucket.tokens) / perMs);
    },
  };
}
