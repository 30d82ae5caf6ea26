import type { DriverWorkerCalls } from './driver-worker.js';
import type { StepTally } from './delivery-tally.js';
import { Worker } from './ipc.js';
import type { ConnectionEvents, TargetKind } from './subscriber-connection.js';
import type { SubscriberWorkerCalls } from './subscriber-worker.js';

/**
 * Everything on the load generator's core, seen from the orchestrator: the subscriber worker processes (each a
 * slice of the S browsers) and the driver process. Calls fan out to every subscriber worker and their answers are
 * added up.
 */

function add(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
  return into;
}

export interface Connected {
  held: number;
  elapsedMs: number;
}

export class LoadGenerator {
  /** The browsers of this phase that failed to connect: the driver does not publish to their sessions. */
  private failed: number[] = [];

  private constructor(
    readonly subscribers: Worker<SubscriberWorkerCalls>[],
    readonly driver: Worker<DriverWorkerCalls>,
  ) {}

  /** Starts ceil(S / perWorker) subscriber workers and the driver, all pinned to `core`. */
  static async start(options: { runId: string; subscribers: number; perWorker: number; core: number; redisUrl: string; verifyEvery: number }): Promise<LoadGenerator> {
    // As few workers as the per-process file limit allows, sharing the browsers evenly.
    const count = Math.ceil(options.subscribers / options.perWorker);
    const workers = Array.from({ length: count }, (_, i) => Worker.start<SubscriberWorkerCalls>(`subscriber worker ${i}`, options.core, './subscriber-worker.ts'));
    await Promise.all(
      workers.map((worker, i) => {
        const from = Math.floor((options.subscribers * i) / count);
        const to = Math.floor((options.subscribers * (i + 1)) / count);
        return worker.call('init', options.runId, from, to - from, options.verifyEvery);
      }),
    );
    const driver = Worker.start<DriverWorkerCalls>('driver', options.core, './driver-worker.ts');
    await driver.call('init', options.runId, options.subscribers, options.redisUrl);
    return new LoadGenerator(workers, driver);
  }

  /** Every process of the generator (for its CPU time). */
  get pids(): number[] {
    return [...this.subscribers.map((worker) => worker.pid), this.driver.pid];
  }

  async startSessions(graphqlUrl: string, concurrency: number) {
    const results = await Promise.all(this.subscribers.map((worker) => worker.call('startSessions', graphqlUrl, concurrency)));
    return {
      started: results.reduce((sum, result) => sum + result.started, 0),
      errors: results.reduce((all, result) => add(all, result.errors), {} as Record<string, number>),
      elapsedMs: Math.max(...results.map((result) => result.elapsedMs)),
    };
  }

  /**
   * Connects part `part.index` of `part.of` of the browsers (each worker the same part of its slice); all workers
   * at once, and the elapsed time is the slowest worker's. The driver then publishes only to the sessions whose
   * subscriber is held: a browser that never connected is a connect error, reported as such, not a lost event in
   * every step.
   */
  async connect(kind: TargetKind, url: string, concurrency: number, establishTimeoutMs: number, part: { index: number; of: number }): Promise<Connected> {
    const results = await Promise.all(this.subscribers.map((worker) => worker.call('connect', kind, url, concurrency, establishTimeoutMs, part)));
    this.failed.push(...results.flatMap((result) => result.failed));
    await this.driver.call('publishTo', this.failed);
    return { held: results.reduce((sum, result) => sum + result.held, 0), elapsedMs: Math.max(...results.map((result) => result.elapsedMs)) };
  }

  async beginStep(step: number): Promise<void> {
    await Promise.all(this.subscribers.map((worker) => worker.call('beginStep', step)));
  }

  async progress(): Promise<{ received: number; lastReceivedAtMs: number }> {
    const results = await Promise.all(this.subscribers.map((worker) => worker.call('progress')));
    return { received: results.reduce((sum, result) => sum + result.received, 0), lastReceivedAtMs: Math.max(...results.map((result) => result.lastReceivedAtMs)) };
  }

  tallies(): Promise<StepTally[]> {
    return Promise.all(this.subscribers.map((worker) => worker.call('stepTally')));
  }

  async connectionEvents(): Promise<ConnectionEvents> {
    const all = await Promise.all(this.subscribers.map((worker) => worker.call('connectionEvents')));
    return {
      connectErrors: all.reduce((sum, events) => add(sum, events.connectErrors), {} as Record<string, number>),
      closedAfterEstablished: all.reduce((sum, events) => add(sum, events.closedAfterEstablished), {} as Record<string, number>),
      subscriptionErrors: all.reduce((sum, events) => add(sum, events.subscriptionErrors), {} as Record<string, number>),
      completed: all.reduce((sum, events) => sum + events.completed, 0),
    };
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.subscribers.map((worker) => worker.call('disconnect')));
    this.failed = [];
  }

  async stop(): Promise<void> {
    await this.driver.call('close').catch(() => undefined);
    await Promise.all([...this.subscribers, this.driver].map((worker) => worker.stop()));
  }
}
