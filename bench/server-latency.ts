/**
 * The gateway's own view of latency during a step: its `apg_event_delivery_latency_seconds` histogram, from an
 * event's timestamp (Redis's clock, in the FCALL) to its hand-over to the subscriber's socket. The browsers'
 * latency adds what comes after: the kernel and the browsers' own event loops, on the generator's core. When the
 * gateway's share is low and the browsers' is high, the delay is not the gateway's.
 *
 * Read from /metrics before and after a step; the difference of the cumulative bucket counts is the step's.
 */

/** Cumulative counts by bucket upper bound (seconds; Infinity for `+Inf`), summed over every label set. */
export type LatencyBuckets = Map<number, number>;

export interface ServerLatency {
  /** Durable events the gateway handed to a live subscriber during the step. */
  events: number;
  /** The upper bound of the bucket holding the median, in ms (Infinity beyond the last bound). */
  p50AtMostMs: number;
  p99AtMostMs: number;
}

const BUCKET = /^apg_event_delivery_latency_seconds_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\d+)$/gm;

export function parseLatencyBuckets(metricsText: string): LatencyBuckets {
  const buckets: LatencyBuckets = new Map();
  for (const [, le, count] of metricsText.matchAll(BUCKET)) {
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(count));
  }
  return buckets;
}

export async function readLatencyBuckets(metricsUrl: string): Promise<LatencyBuckets> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  return parseLatencyBuckets(await response.text());
}

export function latencyBetween(before: LatencyBuckets, after: LatencyBuckets): ServerLatency {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const events = counts.at(-1) ?? 0;
  if (events === 0) return { events, p50AtMostMs: 0, p99AtMostMs: 0 };
  const atMost = (quantile: number) => {
    const index = counts.findIndex((count) => count >= quantile * events);
    return index < 0 ? Infinity : bounds[index]! * 1000;
  };
  return { events, p50AtMostMs: atMost(0.5), p99AtMostMs: atMost(0.99) };
}
