import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { PendingCount } from './pending-count.js';
import { UnlabelledHistogram } from './unlabelled-histogram.js';

/** How a subscriber is connected: graphql-ws, or an HTTP stream (SSE; multipart if a client asks for it). */
export type Transport = 'ws' | 'sse';
const TRANSPORTS: readonly Transport[] = ['ws', 'sse'];

/**
 * Why a subscriber is sent events from history: the replay after it subscribed without a cursor (`initial`) or with
 * one (`resume`), or a `refill` after live events were lost (a full buffer, a pub/sub reconnect).
 */
export type ReplayReason = 'initial' | 'resume' | 'refill';
const REPLAY_REASONS: readonly ReplayReason[] = ['initial', 'resume', 'refill'];

/** Publish-to-delivery latencies, in seconds: milliseconds on a healthy replica, seconds behind a slow consumer. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface TransportSeries {
  running: ReturnType<Gauge<'transport'>['labels']>;
  /** Added to `apg_events_delivered_total` at each scrape (pending-count.ts). */
  delivered: PendingCount;
}

/** How an event came in, for `apg_events_published_total`. */
export type PublishPath = 'mutation' | 'gateway' | 'durable_raw' | 'live_raw';

export interface GatewayMetrics {
  registry: Registry;
  /** Messages dropped from a session channel or the history because they failed validation. */
  invalidEventsDropped: Counter<'source'>;
  eventsPublished: Counter<'path' | 'type'>;
  /** Counts one event in `eventsPublished`, added to it at each scrape (pending-count.ts). */
  countPublished(path: PublishPath, type: string): void;
  subscriptions: Gauge<'transport'>;
  eventsDelivered: Counter<'transport'>;
  /**
   * The two series each subscription updates, per transport, labelled once: prom-client's `labels()` builds an
   * object of bound functions at each call, which every held subscription would otherwise keep.
   */
  byTransport: Record<Transport, TransportSeries>;
  eventsReplayed: Counter<'reason'>;
  publishesRateLimited: Counter;
  publishesReplayed: Counter;
  slowConsumersClosed: Counter;
  deliveryLatency: UnlabelledHistogram;
  /** Reports a Redis connection at every scrape: 1 while `isReady()`, else 0. */
  watchRedisConnection(connection: string, isReady: () => boolean): void;
}

/**
 * One registry per gateway instance, so tests that run several in one process count separately. Every metric is
 * listed, with its labels and meaning, in the README (Operations → Metrics); `apg_websocket_connections` is
 * registered by app.ts, which owns the WebSocket server.
 */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const redisConnections = new Map<string, () => boolean>();
  const publishedCounts = new Map<PublishPath, Map<string, PendingCount>>();
  new Gauge({
    name: 'apg_redis_connection_up',
    help: 'Each Redis connection of this process: 1 ready, 0 not (connecting, reconnecting, closed). Absent on the embedded store.',
    labelNames: ['connection'],
    registers,
    collect() {
      for (const [connection, isReady] of redisConnections) this.set({ connection }, isReady() ? 1 : 0);
    },
  });
  const metrics: GatewayMetrics = {
    registry,
    invalidEventsDropped: new Counter({
      name: 'apg_events_dropped_invalid_total',
      help: 'Events dropped because they failed validation, by where they were read (channel or history).',
      labelNames: ['source'],
      registers,
    }),
    eventsPublished: new Counter({
      name: 'apg_events_published_total',
      help:
        'Events that came into a session, by path and event type, as this process sees them. mutation: publishAgentEvent ' +
        'here; gateway: SESSION_STARTED, REQUEST_QUEUED, SESSION_ENDED logged here (each counted once, by the process that ' +
        'logged it). durable_raw: FCALL apg_publish by an agent; live_raw: plain PUBLISH. Raw events are counted when a ' +
        'session channel delivers them to this process, so only for sessions it has subscribers for at that moment, and ' +
        'once by every process that has (do not sum them across replicas).',
      labelNames: ['path', 'type'],
      registers,
      collect() {
        for (const [path, byType] of publishedCounts) for (const [type, count] of byType) this.inc({ path, type }, count.take());
      },
    }),
    countPublished(path, type) {
      let byType = publishedCounts.get(path);
      if (!byType) publishedCounts.set(path, (byType = new Map()));
      let count = byType.get(type);
      if (!count) byType.set(type, (count = new PendingCount()));
      count.inc();
    },
    subscriptions: new Gauge({
      name: 'apg_subscriptions_active',
      help: 'Running agentProgress subscriptions, by transport (ws: graphql-ws; sse: an HTTP stream).',
      labelNames: ['transport'],
      registers,
    }),
    eventsDelivered: new Counter({
      name: 'apg_events_delivered_total',
      help: 'Events handed to subscribers, live or from history, by transport: one per event per subscriber.',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const transport of TRANSPORTS) this.inc({ transport }, metrics.byTransport[transport].delivered.take());
      },
    }),
    eventsReplayed: new Counter({
      name: 'apg_events_replayed_total',
      help:
        'Of the delivered events, those read from history, by reason: initial (subscribed without a cursor), resume ' +
        '(subscribed with after), refill (live events were lost: a full subscriber buffer or a pub/sub reconnect).',
      labelNames: ['reason'],
      registers,
    }),
    publishesRateLimited: new Counter({
      name: 'apg_publishes_rate_limited_total',
      help: 'publishAgentEvent(s) calls refused with RATE_LIMITED (PUBLISH_RATE_PER_SESSION); nothing was published.',
      registers,
    }),
    slowConsumersClosed: new Counter({
      name: 'apg_websocket_slow_consumers_closed_total',
      help: 'WebSockets closed with 4104 because their peer left a message unread longer than SEND_TIMEOUT_SECONDS.',
      registers,
    }),
    publishesReplayed: new Counter({
      name: 'apg_publishes_replayed_total',
      help: 'Publishes answered from an idempotency key (a retry of an earlier publish); nothing was appended again.',
      registers,
    }),
    deliveryLatency: new UnlabelledHistogram(
      'apg_event_delivery_latency_seconds',
      'From an event being logged (its timestamp, from Redis or this process) to its handing to a live subscriber. ' +
        'Durable events from the live feed only: replays from history and live-only events (no publish time) are left out.',
      LATENCY_BUCKETS,
      registry,
    ),
    byTransport: {} as Record<Transport, TransportSeries>,
    watchRedisConnection(connection, isReady) {
      redisConnections.set(connection, isReady);
    },
  };
  // Series with a known, small set of labels exist from the start, at 0, so rates and alerts see them.
  for (const transport of TRANSPORTS) {
    metrics.subscriptions.set({ transport }, 0);
    metrics.eventsDelivered.inc({ transport }, 0);
    metrics.byTransport[transport] = { running: metrics.subscriptions.labels(transport), delivered: new PendingCount() };
  }
  for (const reason of REPLAY_REASONS) metrics.eventsReplayed.inc({ reason }, 0);
  for (const source of ['channel', 'history']) metrics.invalidEventsDropped.inc({ source }, 0);
  return metrics;
}
