/**
 * `npm run bench -- --smoke`, shrunk to a handful of browsers: the benchmark harness (bench/) runs end to end against
 * a real gateway, a real raw relay and its own redis-server, and writes a well-formed result in which every
 * published event reached its subscriber exactly once. No timing is asserted: the machine's load decides those.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { StepResult } from '../../bench/load-step.js';
import type { BenchResult } from '../../bench/report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUBSCRIBERS = 6;

/** Two cores here: server and generator on separate ones; on a one-core machine they share it (figures unused). */
function cores(): { server: number; generator: number } {
  return { server: 0, generator: availableParallelism() > 1 ? 1 : 0 };
}

async function runSmokeBench(outDir: string): Promise<{ result: BenchResult; stderr: string }> {
  const { server, generator } = cores();
  const args = [
    '--import', 'tsx', 'bench/run.ts', '--smoke',
    '--subscribers', String(SUBSCRIBERS), '--rates', '200', '--step-seconds', '1', '--idle-seconds', '0.2',
    '--mutation-seconds', '1', '--batch-size', '5', '--settle-seconds', '3',
    '--server-core', String(server), '--generator-core', String(generator), '--out-dir', outDir, '--no-record',
  ];
  const { stderr } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 25_000 });
  const files = readdirSync(outDir).filter((name) => name.endsWith('.json'));
  expect(files).toHaveLength(1);
  return { result: JSON.parse(readFileSync(join(outDir, files[0]!), 'utf8')) as BenchResult, stderr };
}

function expectEveryEventOnce(step: StepResult): void {
  expect(step.expected).toBeGreaterThan(0);
  expect(step.received).toBe(step.expected);
  expect({ lost: step.lost, missing: step.missing, duplicates: step.duplicates, verifyFailures: step.verifyFailures }).toEqual({
    lost: 0,
    missing: 0,
    duplicates: 0,
    verifyFailures: 0,
  });
  // Smoke runs parse every frame in full and compare it with the cheap read the load generator relies on.
  expect(step.verified).toBe(step.received);
  expect(step.publish.errors).toEqual({});
}

describe('the benchmark harness', () => {
  it('measures the gateway and the raw relay with every event delivered exactly once', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'apg-bench-smoke-test-'));
    onTestFinished(() => rmSync(outDir, { recursive: true, force: true }));

    const { result } = await runSmokeBench(outDir);

    expect(result).toMatchObject({ version: 1, smoke: true, options: { subscribers: SUBSCRIBERS } });
    expect(result.machine.node).toBe(process.version);
    expect(result.sessions.started).toBe(SUBSCRIBERS);
    for (const kind of ['gateway', 'relay'] as const) {
      const target = result.targets[kind]!;
      expect(target.held).toBe(SUBSCRIBERS);
      expect(target.events).toEqual({ connectErrors: {}, closedAfterEstablished: {}, subscriptionErrors: {}, completed: 0 });
      expect(target.rss.idleKiB).toHaveLength(2);
      // Connected in two halves: the RSS with the first half is read, and the second half's cost per subscription.
      expect(target.rss.halfKiB).toEqual(expect.any(Number));
      expect(target.rss.marginalKiB).toEqual(expect.any(Number));
      expect(target.fcall.steps).toHaveLength(1);
      expectEveryEventOnce(target.fcall.steps[0]!);
    }
    const gateway = result.targets.gateway!;
    expectEveryEventOnce(gateway.mutation!);
    expect(gateway.mutation!.publish.run.calls).toBe(gateway.mutation!.expected);
    // The batch path runs when the schema has publishAgentEvents, and then carries batch-size events per call.
    if (gateway.batch && 'step' in gateway.batch) {
      expectEveryEventOnce(gateway.batch);
      expect(gateway.batch.expected).toBe(gateway.batch.publish.run.calls * 5);
    }
    expect(result.ratios.rssPerSubscription).toEqual(expect.any(Number));
  });
});
