/**
 * A latency histogram in microseconds with fixed memory, mergeable across processes: exact below 128 µs, then 64
 * linear sub-buckets per power of two (at most 1.6 % error). Subscribers record hundreds of thousands of samples per
 * step; keeping them all and sorting would cost the load generator more than the measurement is worth.
 */
const SUB_BUCKETS = 64;
const EXACT_BELOW = 2 * SUB_BUCKETS;
/** Longest latency told apart: about 35 minutes (anything later lands in the last bucket). */
const MAX_MICROS = 2 ** 31 - 1;

/** A histogram as it crosses process boundaries: bucket index → count, only non-empty buckets. */
export interface HistogramData {
  counts: Record<string, number>;
  count: number;
  maxMicros: number;
}

function bucketOf(micros: number): number {
  const v = Math.min(MAX_MICROS, Math.max(0, Math.round(micros)));
  if (v < EXACT_BELOW) return v;
  // `shift` brings v into [64, 128): its top 7 bits pick the sub-bucket.
  const shift = 31 - Math.clz32(v) - 6;
  return EXACT_BELOW + (shift - 1) * SUB_BUCKETS + ((v >>> shift) - SUB_BUCKETS);
}

/** The largest value a bucket holds (so percentiles never understate). */
function upperBoundOf(bucket: number): number {
  if (bucket < EXACT_BELOW) return bucket;
  const shift = Math.floor((bucket - EXACT_BELOW) / SUB_BUCKETS) + 1;
  const mantissa = ((bucket - EXACT_BELOW) % SUB_BUCKETS) + SUB_BUCKETS;
  return ((mantissa + 1) << shift) - 1;
}

export class Histogram {
  private counts = new Map<number, number>();
  private total = 0;
  private max = 0;

  record(micros: number): void {
    const bucket = bucketOf(micros);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total += 1;
    if (micros > this.max) this.max = micros;
  }

  get count(): number {
    return this.total;
  }

  merge(data: HistogramData): this {
    for (const [bucket, count] of Object.entries(data.counts)) {
      const index = Number(bucket);
      this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    }
    this.total += data.count;
    this.max = Math.max(this.max, data.maxMicros);
    return this;
  }

  /** The value at or below which `p` percent of the samples fall (an upper bound within 1.6 %); 0 when empty. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(upperBoundOf(bucket), this.max);
    }
    return this.max;
  }

  get maxMicros(): number {
    return this.max;
  }

  toJSON(): HistogramData {
    return { counts: Object.fromEntries(this.counts), count: this.total, maxMicros: this.max };
  }

  static merged(parts: Iterable<HistogramData>): Histogram {
    const histogram = new Histogram();
    for (const part of parts) histogram.merge(part);
    return histogram;
  }
}

/** p50 / p99 / max in milliseconds, rounded for reports. */
export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(histogram: Histogram): LatencySummary {
  const ms = (micros: number) => Math.round(micros / 10) / 100;
  return { samples: histogram.count, p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.maxMicros) };
}
