import type { StepTally } from './delivery-tally.js';
import { nowMs } from './events.js';
import { Histogram, summarize, type LatencySummary } from './histogram.js';
import type { LoadGenerator } from './load-generator.js';
import type { LoadPath } from './options.js';
import { cpuMicros, rssKiB, totalCpuMicros } from './proc-stats.js';
import { latencyBetween, type LatencyBuckets, type ServerLatency } from './server-latency.js';

/**
 * One step of load and what it did: publish for a while (any path), wait until every subscriber has every event
 * (or until nothing arrives any more), then add up delivery, latency and CPU. The verdict says whether the server
 * kept up: no event lost, doubled or reordered, p99 under the limit, nothing refused.
 */

export interface Published {
  /** Events that were accepted, so each must reach its session's one subscriber. */
  events: number;
  /** Refused publishes by code. */
  errors: Record<string, number>;
  /** Set when the driver could not send the offered rate: the load generator, not the server, was the limit. */
  generatorLimited?: boolean;
}

export type Verdict = 'ok' | 'loss' | 'p99' | 'publish-errors' | 'generator-limited';

export interface StepResult<P extends Published = Published> {
  path: LoadPath;
  step: number;
  publish: P;
  expected: number;
  received: number;
  /** Expected − received after settling. */
  lost: number;
  gaps: number;
  missing: number;
  duplicates: number;
  /** Events of earlier steps that arrived during this one. */
  late: number;
  settled: boolean;
  /** From the first publish to the last event received (or to giving up). */
  windowMs: number;
  deliveredPerSecond: number;
  latency: LatencySummary;
  /** The gateway's own part of the latency (bench/server-latency.ts); the relay measures none. */
  serverLatency?: ServerLatency;
  /** Server CPU busy share while publishing, and its CPU time per delivered event over the whole window. */
  serverCpuPercent: number;
  serverCpuMicrosPerEvent: number;
  /** The generator's core (subscribers, driver, Redis, orchestrator) busy share while publishing. */
  generatorCpuPercent: number;
  /** Redis's busy share while publishing (FCALL runs a Lua validator and six commands per event). */
  redisCpuPercent: number;
  /** Redis CPU time per event published over the whole window. */
  redisCpuMicrosPerEvent: number;
  serverRssKiB: number;
  verified: number;
  verifyFailures: number;
  firstVerifyFailure?: string;
  verdict: Verdict;
}

export interface StepContext {
  generator: LoadGenerator;
  serverPid: number;
  redisPid: number;
  /** Other processes on the generator's core (Redis, this orchestrator). */
  generatorSidePids: number[];
  settleSeconds: number;
  p99LimitMs: number;
  /** The gateway's delivery-latency histogram as it stands (the relay has none). */
  serverLatencyBuckets?: () => Promise<LatencyBuckets>;
}

/** Polls the subscribers' counts: "has everything arrived" has no event to wait on across processes. */
const POLL_MS = 100;
/** However slowly a backlog drains, a step ends within this. */
const MAX_SETTLE_MS = 120_000;
/**
 * The generator's core this busy means its processes queue their own work: latency measured then is partly the
 * generator's, so a p99 failure is put down to it rather than to the server.
 */
const GENERATOR_SATURATED_PERCENT = 95;

/**
 * A p99 failure is the server's unless the generator's core was saturated, or the server's own p99 (its histogram's
 * bucket bound) stayed under the limit: then the delay came after the server had handed the events over.
 */
function p99Verdict(generatorCpuPercent: number, serverLatency: ServerLatency | undefined, p99LimitMs: number): Verdict {
  if (generatorCpuPercent >= GENERATOR_SATURATED_PERCENT) return 'generator-limited';
  if (serverLatency && serverLatency.events > 0 && serverLatency.p99AtMostMs < p99LimitMs) return 'generator-limited';
  return 'p99';
}

function mergeTallies(tallies: StepTally[]) {
  const sum = (pick: (tally: StepTally) => number) => tallies.reduce((total, tally) => total + pick(tally), 0);
  return {
    received: sum((t) => t.received),
    late: sum((t) => t.late),
    gaps: sum((t) => t.gaps),
    missing: sum((t) => t.missing),
    duplicates: sum((t) => t.duplicates),
    verified: sum((t) => t.verified),
    verifyFailures: sum((t) => t.verifyFailures),
    firstVerifyFailure: tallies.find((t) => t.firstVerifyFailure)?.firstVerifyFailure,
    lastReceivedAtMs: Math.max(0, ...tallies.map((t) => t.lastReceivedAtMs)),
    latency: summarize(Histogram.merged(tallies.map((t) => t.latency))),
  };
}

/** Waits until `expected` events arrived, or none arrived for `quietMs`; true when all did. */
async function settle(generator: LoadGenerator, expected: number, quietMs: number): Promise<boolean> {
  const begin = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const { received } = await generator.progress();
    if (received >= expected) return true;
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange >= quietMs || Date.now() - begin >= MAX_SETTLE_MS) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function runStep<P extends Published>(context: StepContext, path: LoadPath, step: number, publish: () => Promise<P>): Promise<StepResult<P>> {
  const { generator, serverPid } = context;
  const generatorPids = [...generator.pids, ...context.generatorSidePids];
  await generator.beginStep(step);
  // Read before the step's clocks start: the scrape is the gateway's work, not the step's.
  const serverBuckets0 = await context.serverLatencyBuckets?.();
  const startMs = nowMs();
  const serverCpu0 = cpuMicros(serverPid);
  const generatorCpu0 = totalCpuMicros(generatorPids);
  const redisCpu0 = cpuMicros(context.redisPid);
  const published = await publish();
  const driveMs = nowMs() - startMs;
  const percentOfDrive = (micros: number) => Math.round((micros / 1000 / driveMs) * 1000) / 10;
  const serverCpuPercent = percentOfDrive(cpuMicros(serverPid) - serverCpu0);
  const generatorCpuPercent = percentOfDrive(totalCpuMicros(generatorPids) - generatorCpu0);
  const redisCpuPercent = percentOfDrive(cpuMicros(context.redisPid) - redisCpu0);
  const settled = await settle(generator, published.events, context.settleSeconds * 1000);
  const serverCpu = cpuMicros(serverPid) - serverCpu0;
  const redisCpu = cpuMicros(context.redisPid) - redisCpu0;
  const merged = mergeTallies(await generator.tallies());
  const serverBuckets = await context.serverLatencyBuckets?.();
  const serverLatency = serverBuckets0 && serverBuckets ? latencyBetween(serverBuckets0, serverBuckets) : undefined;
  const windowMs = (merged.lastReceivedAtMs || nowMs()) - startMs;
  const lost = Math.max(0, published.events - merged.received);
  const publishErrors = Object.values(published.errors).reduce((sum, n) => sum + n, 0);
  const verdict: Verdict =
    lost > 0 || merged.missing > 0 || merged.duplicates > 0 || merged.verifyFailures > 0
      ? 'loss'
      : merged.latency.p99Ms >= context.p99LimitMs
        ? p99Verdict(generatorCpuPercent, serverLatency, context.p99LimitMs)
        : publishErrors > 0
          ? 'publish-errors'
          : published.generatorLimited
            ? 'generator-limited'
            : 'ok';
  return {
    path,
    step,
    publish: published,
    expected: published.events,
    received: merged.received,
    lost,
    gaps: merged.gaps,
    missing: merged.missing,
    duplicates: merged.duplicates,
    late: merged.late,
    settled,
    windowMs: Math.round(windowMs),
    deliveredPerSecond: Math.round((merged.received * 1000) / Math.max(1, windowMs)),
    latency: merged.latency,
    ...(serverLatency ? { serverLatency } : {}),
    serverCpuPercent,
    serverCpuMicrosPerEvent: merged.received ? Math.round((serverCpu / merged.received) * 10) / 10 : 0,
    generatorCpuPercent,
    redisCpuPercent,
    redisCpuMicrosPerEvent: published.events ? Math.round((redisCpu / published.events) * 10) / 10 : 0,
    serverRssKiB: rssKiB(serverPid),
    verified: merged.verified,
    verifyFailures: merged.verifyFailures,
    ...(merged.firstVerifyFailure ? { firstVerifyFailure: merged.firstVerifyFailure } : {}),
    verdict,
  };
}
