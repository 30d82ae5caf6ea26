import { describe, expect, it } from 'vitest';
import { latencyBetween, parseLatencyBuckets } from '../../bench/server-latency.js';

/** The histogram's lines as prom-client prints them, with cumulative counts per bound. */
function metrics(counts: Record<string, number>, labels = ''): string {
  const lines = Object.entries(counts).map(([le, count]) => `apg_event_delivery_latency_seconds_bucket{${labels}le="${le}"} ${count}`);
  return ['# TYPE apg_event_delivery_latency_seconds histogram', ...lines, 'apg_events_delivered_total{transport="ws"} 7'].join('\n');
}

describe("the benchmark's reading of the gateway's own latency", () => {
  it('takes the quantiles of a step from the difference of two readings, as bucket bounds in ms', () => {
    const before = parseLatencyBuckets(metrics({ '0.001': 10, '0.005': 10, '0.025': 10, '+Inf': 10 }));
    const after = parseLatencyBuckets(metrics({ '0.001': 10, '0.005': 60, '0.025': 108, '+Inf': 110 }));
    expect(latencyBetween(before, after)).toEqual({ events: 100, p50AtMostMs: 5, p99AtMostMs: Infinity });
    const tighter = parseLatencyBuckets(metrics({ '0.001': 10, '0.005': 60, '0.025': 109, '+Inf': 110 }));
    expect(latencyBetween(before, tighter).p99AtMostMs).toBe(25);
  });

  it('adds up the label sets of one bound, and reads a step with no event as zero', () => {
    const text = `${metrics({ '0.01': 3, '+Inf': 4 }, 'a="1",')}\n${metrics({ '0.01': 5, '+Inf': 5 }, 'a="2",')}`;
    const buckets = parseLatencyBuckets(text);
    expect([...buckets]).toEqual([[0.01, 8], [Infinity, 9]]);
    expect(latencyBetween(buckets, buckets)).toEqual({ events: 0, p50AtMostMs: 0, p99AtMostMs: 0 });
  });
});
