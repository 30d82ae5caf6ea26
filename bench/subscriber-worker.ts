import { DeliveryTally } from './delivery-tally.js';
import { serveCalls } from './ipc.js';
import { SUBSCRIPTION_DOCUMENTS } from './selection-sets.js';
import { benchSessions, mintUserTokens, startSessions, type BenchSession } from './sessions.js';
import { BenchSubscriber, newConnectionEvents, type ConnectionEvents, type TargetKind } from './subscriber-connection.js';

/**
 * A subscriber worker process: holds a slice of the S browsers (each its own WebSocket and session). Several run
 * side by side because one process may open at most 20,000 files (the hard limit here), sockets included.
 * The orchestrator drives it over IPC (bench/ipc.ts): the calls below are its whole interface.
 */

let sessions: BenchSession[] = [];
let tokens = new Map<string, string>();
let verifyEvery = 1000;
let frames = 0;
let subscribers: BenchSubscriber[] = [];
let events: ConnectionEvents = newConnectionEvents();
const tally = new DeliveryTally();

const handlers = {
  /** This worker's browsers: subscribers `from` … `from + count - 1` of the run. */
  async init(runId: string, from: number, count: number, verifyEveryNth: number) {
    sessions = benchSessions(runId, from, count);
    tokens = await mintUserTokens(sessions);
    verifyEvery = Math.max(1, verifyEveryNth);
  },

  /** Each browser starts its session through the gateway (startSession with its own JWT). */
  startSessions(graphqlUrl: string, concurrency: number) {
    return startSessions(graphqlUrl, sessions, tokens, concurrency);
  },

  /**
   * Opens the subscriptions of part `part.index` of `part.of` of this worker's browsers, `concurrency` handshakes
   * in flight; resolves when each succeeded or failed. The parts of a target's phase are connected one after
   * another, and stay connected until disconnect().
   */
  async connect(kind: TargetKind, url: string, concurrency: number, establishTimeoutMs: number, part: { index: number; of: number }) {
    const from = Math.floor((sessions.length * part.index) / part.of);
    const to = Math.floor((sessions.length * (part.index + 1)) / part.of);
    let next = from;
    let held = 0;
    const failed: number[] = [];
    const begin = performance.now();
    const shouldVerify = () => ++frames % verifyEvery === 0;
    async function lane() {
      while (next < to) {
        const session = sessions[next++]!;
        const document = SUBSCRIPTION_DOCUMENTS[session.index % SUBSCRIPTION_DOCUMENTS.length]!;
        const subscriber = new BenchSubscriber({ kind, url, session, token: tokens.get(session.userId)!, document, tally, events, shouldVerify, establishTimeoutMs });
        subscribers.push(subscriber);
        if (await subscriber.established) held += 1;
        else failed.push(session.index);
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, lane));
    return { held, failed, elapsedMs: performance.now() - begin };
  },

  beginStep(step: number) {
    tally.begin(step);
  },

  progress() {
    return tally.progress();
  },

  stepTally() {
    return tally.snapshot();
  },

  connectionEvents() {
    return events;
  },

  /** Closes every socket (the end of a target's phase). */
  async disconnect() {
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
    subscribers = [];
    events = newConnectionEvents();
  },
};

export type SubscriberWorkerCalls = typeof handlers;

serveCalls(handlers);
