import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UnlabelledHistogram } from '../../src/unlabelled-histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.1, 1, 30];

describe('UnlabelledHistogram', () => {
  it("reads out what prom-client's Histogram does for the same observations, as text and as JSON, also after a reset", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new UnlabelledHistogram('apg_test_seconds', 'A test histogram.', BUCKETS, ours);
    const reference = new Histogram({ name: 'apg_test_seconds', help: 'A test histogram.', buckets: BUCKETS, registers: [theirs] });
    // As JSON, prom-client gives every value an `exemplar` key (null or undefined); there are no exemplars here.
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (key, value: unknown) => (key === 'exemplar' ? undefined : value))) as unknown;
    const compare = async () => {
      expect(await ours.metrics()).toBe(await theirs.metrics());
      expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
    };
    await compare(); // nothing observed yet
    // On the bounds, between them, below the first and above the last.
    for (const value of [0, 0.0005, 0.001, 0.0011, 0.003, 0.0025, 0.01, 0.5, 1, 29.9, 30, 31, 1_000, 0.003]) {
      fast.observe(value);
      reference.observe(value);
    }
    await compare();
    ours.resetMetrics();
    theirs.resetMetrics();
    await compare();
    fast.observe(0.2);
    reference.observe(0.2);
    await compare();
  });
});
