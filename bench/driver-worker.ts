import { FcallDriver } from './fcall-driver.js';
import { serveCalls } from './ipc.js';
import { MutationDriver } from './mutation-driver.js';
import { detectBatchPublish, publishOne } from './publish-mutations.js';
import { RespPipeline } from './resp-pipeline.js';
import { benchSessions, type BenchSession } from './sessions.js';
import { agentToken } from './tokens.js';

/**
 * The load driver process: publishes the events the subscribers count, through Redis (FCALL) or the gateway's
 * mutations. One process, pinned with the subscribers: its CPU time is part of what the load generator's core
 * spends, which the orchestrator watches to tell "the server saturated" from "the generator did".
 */

let allSessions: BenchSession[] = [];
/** The sessions published to: those with a subscriber held. */
let sessions: BenchSession[] = [];
let redis: RespPipeline | undefined;
let fcall: FcallDriver | undefined;

/** A closed loop of HTTP publishes on a fresh keep-alive pool, closed afterwards (the gateway may stop next). */
async function closedLoop(graphqlUrl: string, run: (driver: MutationDriver) => ReturnType<MutationDriver['run']>, concurrency: number) {
  const driver = new MutationDriver(graphqlUrl, await agentToken(), sessions, concurrency);
  try {
    return await run(driver);
  } finally {
    driver.close();
  }
}

const handlers = {
  async init(runId: string, subscriberCount: number, redisUrl: string) {
    allSessions = benchSessions(runId, 0, subscriberCount);
    redis = await RespPipeline.open(redisUrl);
    handlers.publishTo([]);
  },

  /** Publishes to every session but these (whose subscriber failed to connect). */
  publishTo(excludedIndexes: number[]) {
    const excluded = new Set(excludedIndexes);
    const held = allSessions.filter((session) => !excluded.has(session.index));
    // With no subscriber at all, publish anyway: every event then counts as lost, as it should.
    sessions = held.length ? held : allSessions;
    fcall = new FcallDriver(redis!, sessions);
  },

  /** Load path (a) at a fixed offered rate. */
  fcall(step: number, rate: number, durationMs: number) {
    return fcall!.run(step, rate, durationMs);
  },

  /** Load path (b): `publishAgentEvent` by `concurrency` agents, as fast as answered. */
  mutations(graphqlUrl: string, step: number, concurrency: number, durationMs: number) {
    return closedLoop(graphqlUrl, (driver) => driver.run(step, concurrency, durationMs, 1, (session, [event]) => publishOne(session.sessionId, event!)), concurrency);
  },

  /** Load path (c): the batch publish, when the schema has it; else why not. */
  async batches(graphqlUrl: string, step: number, concurrency: number, batchSize: number, durationMs: number) {
    const { publishMany, reason } = detectBatchPublish();
    if (!publishMany) return { unavailable: reason! };
    return closedLoop(graphqlUrl, (driver) => driver.run(step, concurrency, durationMs, batchSize, (session, events) => publishMany(session.sessionId, events)), concurrency);
  },

  async close() {
    await redis?.close();
  },
};

export type DriverWorkerCalls = typeof handlers;

serveCalls(handlers);
