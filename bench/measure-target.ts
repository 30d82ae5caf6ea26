import type { PacedRun } from './fcall-driver.js';
import type { LoadGenerator } from './load-generator.js';
import { runStep, type Published, type StepContext, type StepResult, type Verdict } from './load-step.js';
import type { ClosedLoopRun } from './mutation-driver.js';
import type { BenchOptions } from './options.js';
import { cpuMicros, fileDescriptors, rssKiB } from './proc-stats.js';
import { detectBatchPublish } from './publish-mutations.js';
import { readLatencyBuckets } from './server-latency.js';
import type { MeasuredServer } from './servers.js';
import type { ConnectionEvents } from './subscriber-connection.js';

/**
 * Everything measured on one server (the gateway or the raw relay) with the S browsers: hold them, read its memory,
 * then step the FCALL rate up until it fails, then (gateway only) the mutation paths.
 */

export type FcallPublished = Published & { run: PacedRun };
export type ClosedLoopPublished = Published & { run: ClosedLoopRun };

export interface Saturation {
  /** The highest offered rate that passed, what was delivered at it, and the tail latency and cost there. */
  offeredRate: number;
  deliveredPerSecond: number;
  p99Ms: number;
  serverCpuMicrosPerEvent: number;
  /** What ended the ladder: the verdict of the first failing step, or `ladder-end` when every rate passed. */
  limitedBy: Verdict | 'ladder-end';
}

export interface TargetResult {
  kind: 'gateway' | 'relay';
  subscribers: number;
  held: number;
  connect: { elapsedMs: number; perSecond: number };
  events: ConnectionEvents;
  fds: { limit: number; openBefore: number; openHeld: number; maxSubscriptions: number };
  /**
   * `perSubscriptionKiB`: (RSS with S idle − RSS before) / S, the process's whole growth. `marginalKiB`: what the
   * second half of the subscriptions added, read after the first half sat idle: without the growth that comes once
   * whatever S (V8's young generation, sized up by the first connections' allocations).
   */
  rss: { beforeKiB: number; halfKiB: number; idleKiB: number[]; perSubscriptionKiB: number; marginalKiB: number; afterLoadKiB: number };
  /** Server CPU while the S subscriptions sat idle (pings, timers): the fixed cost under every step. */
  idleCpuPercent: number;
  fcall: { steps: StepResult<FcallPublished>[]; saturation: Saturation | null };
  mutation?: StepResult<ClosedLoopPublished>;
  batch?: StepResult<ClosedLoopPublished> | { unavailable: string };
  serverLog: { lines: number; tail: string[] };
}

export interface TargetContext {
  options: BenchOptions;
  generator: LoadGenerator;
  redisPid: number;
  /** Redis and this orchestrator: they share the generator's core. */
  generatorSidePids: number[];
  /** A run-wide step counter, so a late event of one step is never counted in another. */
  nextStep(): number;
  log(message: string): void;
}

const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function saturationOf(steps: StepResult<FcallPublished>[]): Saturation | null {
  const passed = steps.filter((step) => step.verdict === 'ok');
  const best = passed.at(-1);
  if (!best) return null;
  const failed = steps.find((step) => step.verdict !== 'ok');
  return {
    offeredRate: best.publish.run.offeredRate,
    deliveredPerSecond: best.deliveredPerSecond,
    p99Ms: best.latency.p99Ms,
    serverCpuMicrosPerEvent: best.serverCpuMicrosPerEvent,
    limitedBy: failed?.verdict ?? 'ladder-end',
  };
}

function describe(step: StepResult, offeredRate?: number): string {
  const rate = offeredRate === undefined ? '' : `${offeredRate}/s offered, `;
  return (
    `${step.path} step ${step.step}: ${rate}${step.expected} published, ${step.received} received, ${step.lost} lost, ` +
    `${step.deliveredPerSecond}/s delivered, p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms, max ${step.latency.maxMs} ms${step.serverLatency ? ` (the server's own p99 ≤ ${step.serverLatency.p99AtMostMs} ms)` : ''}, ` +
    `server CPU ${step.serverCpuPercent} % (${step.serverCpuMicrosPerEvent} µs/event), generator core ${step.generatorCpuPercent} % (Redis ${step.redisCpuPercent} %) → ${step.verdict}`
  );
}

export async function measureTarget(context: TargetContext, server: MeasuredServer): Promise<TargetResult> {
  const { options, generator, log } = context;
  const stepContext: StepContext = {
    generator,
    serverPid: server.pid,
    redisPid: context.redisPid,
    generatorSidePids: context.generatorSidePids,
    settleSeconds: options.settleSeconds,
    p99LimitMs: options.p99LimitMs,
    ...(server.metricsUrl ? { serverLatencyBuckets: () => readLatencyBuckets(server.metricsUrl!) } : {}),
  };

  const fdsBefore = fileDescriptors(server.pid);
  const rssBefore = rssKiB(server.pid);
  // In two halves, the first left idle before the second comes, so that what one more subscription costs can be
  // told from what the process grows by once (see TargetResult.rss).
  log(`${server.kind}: connecting ${options.subscribers} subscribers, in two halves`);
  const establishMs = options.establishTimeoutSeconds * 1000;
  const firstHalf = await generator.connect(server.kind, server.wsUrl, options.connectConcurrency, establishMs, { index: 0, of: 2 });
  await pause(options.idleSeconds);
  const rssHalf = rssKiB(server.pid);
  const secondHalf = await generator.connect(server.kind, server.wsUrl, options.connectConcurrency, establishMs, { index: 1, of: 2 });
  const connected = { held: firstHalf.held + secondHalf.held, elapsedMs: firstHalf.elapsedMs + secondHalf.elapsedMs };
  const connect = { elapsedMs: Math.round(connected.elapsedMs), perSecond: Math.round((connected.held * 1000) / connected.elapsedMs) };
  log(`${server.kind}: ${connected.held} held after ${connect.elapsedMs} ms of connecting (${connect.perSecond}/s); RSS ${rssHalf} KiB with the first ${firstHalf.held}`);
  // Memory is read twice after a quiet spell: the server may still be settling (GC, buffers) after the burst.
  const idleKiB: number[] = [];
  const idleCpu0 = cpuMicros(server.pid);
  const idleBegin = performance.now();
  for (let i = 0; i < 2; i += 1) {
    await pause(options.idleSeconds);
    idleKiB.push(rssKiB(server.pid));
  }
  const idleCpuPercent = Math.round(((cpuMicros(server.pid) - idleCpu0) / 1000 / (performance.now() - idleBegin)) * 1000) / 10;
  const fdsHeld = fileDescriptors(server.pid);
  const perSubscriptionKiB = connected.held ? Math.round(((idleKiB.at(-1)! - rssBefore) / connected.held) * 100) / 100 : 0;
  const marginalKiB = secondHalf.held ? Math.round(((idleKiB.at(-1)! - rssHalf) / secondHalf.held) * 100) / 100 : 0;
  log(
    `${server.kind}: RSS ${rssBefore} KiB → ${rssHalf} KiB (half) → ${idleKiB.join(', ')} KiB: ${perSubscriptionKiB} KiB per subscription, ` +
      `${marginalKiB} KiB each for the second half; idle CPU ${idleCpuPercent} %`,
  );

  const fcallSteps: StepResult<FcallPublished>[] = [];
  if (options.paths.includes('fcall')) {
    for (const rate of options.rates) {
      const step = context.nextStep();
      const result = await runStep(stepContext, 'fcall', step, async (): Promise<FcallPublished> => {
        const run = await generator.driver.call('fcall', step, rate, options.stepSeconds * 1000);
        return { events: run.published, errors: run.errors, generatorLimited: run.achievedRate < rate * options.minAchievedShare, run };
      });
      fcallSteps.push(result);
      log(`${server.kind}: ${describe(result, rate)}`);
      if (result.verdict !== 'ok') break;
    }
  }

  let mutation: StepResult<ClosedLoopPublished> | undefined;
  let batch: TargetResult['batch'];
  if (server.graphqlUrl && options.paths.includes('mutation')) {
    const step = context.nextStep();
    mutation = await runStep(stepContext, 'mutation', step, async (): Promise<ClosedLoopPublished> => {
      const run = await generator.driver.call('mutations', server.graphqlUrl!, step, options.mutationConcurrency, options.mutationSeconds * 1000);
      return { events: run.events, errors: run.errors, run };
    });
    log(`${server.kind}: ${describe(mutation)}; ${Math.round(mutation.publish.run.callsPerSecond)} publishes/s, round trip p99 ${mutation.publish.run.roundTrip.p99Ms} ms`);
  }
  if (server.graphqlUrl && options.paths.includes('batch')) {
    const detection = detectBatchPublish();
    if (!detection.publishMany) {
      batch = { unavailable: detection.reason! };
      log(`${server.kind}: batch path skipped: ${detection.reason}`);
    } else {
      const step = context.nextStep();
      batch = await runStep(stepContext, 'batch', step, async (): Promise<ClosedLoopPublished> => {
        const run = await generator.driver.call('batches', server.graphqlUrl!, step, options.mutationConcurrency, options.batchSize, options.mutationSeconds * 1000);
        if ('unavailable' in run) throw new Error(`batch publish unavailable in the driver: ${run.unavailable}`);
        return { events: run.events, errors: run.errors, run };
      });
      log(`${server.kind}: ${describe(batch)}; ${Math.round(batch.publish.run.callsPerSecond)} batches/s of ${options.batchSize}`);
    }
  }

  const afterLoadKiB = rssKiB(server.pid);
  const events = await generator.connectionEvents();
  await generator.disconnect();
  return {
    kind: server.kind,
    subscribers: options.subscribers,
    held: connected.held,
    connect,
    events,
    fds: { limit: fdsBefore.limit, openBefore: fdsBefore.open, openHeld: fdsHeld.open, maxSubscriptions: fdsBefore.limit - fdsBefore.open },
    rss: { beforeKiB: rssBefore, halfKiB: rssHalf, idleKiB, perSubscriptionKiB, marginalKiB, afterLoadKiB },
    idleCpuPercent,
    fcall: { steps: fcallSteps, saturation: saturationOf(fcallSteps) },
    ...(mutation ? { mutation } : {}),
    ...(batch ? { batch } : {}),
    serverLog: { lines: server.outputLines(), tail: server.output.slice(-20) },
  };
}
