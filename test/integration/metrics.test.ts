/**
 * `/metrics` after known traffic: every gateway metric moves by exactly what the traffic implies, on both stores,
 * and the gauges come back down when the connections and subscriptions end.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { errorCodes, graphql, subscribe, subscribeSse, wsClient, type Collected } from '../support/clients.js';
import { startGateway, STORES, type Store, type TestGateway } from '../support/gateway.js';
import { startRedisServer } from '../support/redis-server.js';
import { AGENT_PROGRESS, END_SESSION, PUBLISH, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';

const USER = 'alice';

type Samples = Map<string, number>;

/** A sample's key: its name and its labels sorted by name, e.g. `apg_events_published_total{path="mutation",type="PROGRESS"}`. */
function key(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? name : `${name}{${pairs.map(([label, value]) => `${label}="${value}"`).join(',')}}`;
}

/** Every sample of the gateway's `/metrics` text, by key. */
async function scrape(gw: TestGateway): Promise<Samples> {
  const response = await fetch(new URL('/metrics', gw.url));
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples: Samples = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, label, value]) => [label!, value!]));
    samples.set(key(match[1]!, labels), Number(match[3]));
  }
  return samples;
}

/** What one metric series moved by between two scrapes (an absent series counts as 0). */
function moved(before: Samples, after: Samples, name: string, labels: Record<string, string> = {}): number {
  const at = key(name, labels);
  return (after.get(at) ?? 0) - (before.get(at) ?? 0);
}

async function value(gw: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return (await scrape(gw)).get(key(name, labels));
}

async function gateway(store: Store): Promise<TestGateway> {
  // A burst of 3 and a rate so low no token comes back during the test: the 4th publish is refused.
  const gw = await startGateway({ store, redisUrl: inject('redisUrl'), config: { publishBurstPerSession: 3, publishRatePerSession: 0.001 } });
  onTestFinished(() => gw.stop());
  return gw;
}

const progress = (gw: TestGateway, sessionId: string, percent: number) =>
  graphql(gw.url, PUBLISH, { sessionId, requestId: 'r1', event: { progress: { percent } } }, USER);

/** The events a subscriber received, as `seq:type` (a live-only event repeats the seq before it). */
const seqTypes = (sub: Collected) => sub.events.map((e) => `${e['seq']}:${e['type']}${e['ephemeral'] ? '~' : ''}`);

describe.each(STORES)('metrics after traffic (%s)', (store) => {
  it('count publishes by path and type, deliveries, replays, refusals, latency, connections and subscriptions exactly', async () => {
    const gw = await gateway(store);
    const before = await scrape(gw);
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId }, USER)).errors).toBeUndefined(); // seq 1

    // A follows over graphql-ws from the start: the history (SESSION_STARTED) is its initial replay.
    const client = wsClient(gw.wsUrl, USER);
    onTestFinished(() => client.dispose());
    const a = subscribe(client, AGENT_PROGRESS, { sessionId });
    await a.count(1);
    expect(await value(gw, 'apg_subscriptions_active', { transport: 'ws' })).toBe(1);
    expect(await value(gw, 'apg_websocket_connections')).toBe(1);

    expect((await progress(gw, sessionId, 10)).errors).toBeUndefined(); // seq 2
    expect((await progress(gw, sessionId, 20)).errors).toBeUndefined(); // seq 3
    await a.count(3);

    // B resumes over SSE after seq 2: seq 3 is replayed from history, the rest comes live.
    const b = subscribeSse(gw.url, AGENT_PROGRESS, { sessionId, after: '2' }, USER);
    onTestFinished(() => b.unsubscribe());
    await b.count(1);
    expect(await value(gw, 'apg_subscriptions_active', { transport: 'sse' })).toBe(1);

    expect((await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input: { q: 'x' } }, USER)).errors).toBeUndefined(); // seq 4
    expect((await progress(gw, sessionId, 30)).errors).toBeUndefined(); // seq 5, the third publish: the burst is used up
    expect(errorCodes(await progress(gw, sessionId, 40))).toEqual(['RATE_LIMITED']);
    await a.count(5);
    await b.count(3);

    let redis: Redis | undefined;
    if (store === 'redis') {
      redis = new Redis(gw.redisUrl!);
      onTestFinished(async () => {
        await redis!.quit();
      });
      const stream = `stream:user_${USER}:session_${sessionId}`;
      const channel = `channel:user_${USER}:session_${sessionId}`;
      // An agent's durable FCALL (seq 6), garbage, then a live-only PUBLISH: the channel delivers them in that order.
      expect(await redis.call('FCALL', 'apg_publish', 2, stream, `session:${sessionId}`, '{"type":"PROGRESS","percent":50}')).toEqual([6, expect.any(Number)]);
      expect(await redis.publish(channel, '{"type":"TELEPORTED"}')).toBe(1);
      expect(await redis.publish(channel, '{"type":"PROGRESS","percent":55}')).toBe(1);
      await a.count(7);
      await b.count(5);
    }

    // B leaves; then the session ends, which completes A.
    b.unsubscribe();
    await expect.poll(() => value(gw, 'apg_subscriptions_active', { transport: 'sse' })).toBe(0);
    expect((await graphql(gw.url, END_SESSION, { sessionId }, USER)).errors).toBeUndefined();
    expect(await a.done).toBe('complete');
    await expect.poll(() => value(gw, 'apg_subscriptions_active', { transport: 'ws' })).toBe(0);
    await client.dispose();
    await expect.poll(() => value(gw, 'apg_websocket_connections')).toBe(0);

    const raw = store === 'redis';
    expect(seqTypes(a)).toEqual([
      '1:SESSION_STARTED',
      '2:PROGRESS',
      '3:PROGRESS',
      '4:REQUEST_QUEUED',
      '5:PROGRESS',
      ...(raw ? ['6:PROGRESS', '6:PROGRESS~'] : []),
      `${raw ? 7 : 6}:SESSION_ENDED`,
    ]);
    expect(seqTypes(b)).toEqual(['3:PROGRESS', '4:REQUEST_QUEUED', '5:PROGRESS', ...(raw ? ['6:PROGRESS', '6:PROGRESS~'] : [])]);

    const after = await scrape(gw);
    const delta = (name: string, labels: Record<string, string> = {}) => moved(before, after, name, labels);
    const published = (path: string, type: string) => delta('apg_events_published_total', { path, type });
    expect({
      mutation: published('mutation', 'PROGRESS'),
      sessionStarted: published('gateway', 'SESSION_STARTED'),
      requestQueued: published('gateway', 'REQUEST_QUEUED'),
      sessionEnded: published('gateway', 'SESSION_ENDED'),
      // The gateway's own publishes reach it over the channel too, and are not taken for an agent's.
      durableRaw: published('durable_raw', 'PROGRESS'),
      liveRaw: published('live_raw', 'PROGRESS'),
      anyOtherRaw: ['SESSION_STARTED', 'REQUEST_QUEUED', 'SESSION_ENDED'].map((type) => published('durable_raw', type)),
      // A: 1 replayed + 4 live (+ 2 raw) + SESSION_ENDED; B: 1 replayed + 2 live (+ 2 raw).
      deliveredWs: delta('apg_events_delivered_total', { transport: 'ws' }),
      deliveredSse: delta('apg_events_delivered_total', { transport: 'sse' }),
      replayedInitial: delta('apg_events_replayed_total', { reason: 'initial' }),
      replayedResume: delta('apg_events_replayed_total', { reason: 'resume' }),
      replayedRefill: delta('apg_events_replayed_total', { reason: 'refill' }),
      rateLimited: delta('apg_publishes_rate_limited_total'),
      droppedChannel: delta('apg_events_dropped_invalid_total', { source: 'channel' }),
      droppedHistory: delta('apg_events_dropped_invalid_total', { source: 'history' }),
      // Durable events delivered live: A 5 (+1), B 2 (+1); live-only and replayed ones are not measured.
      latencyCount: delta('apg_event_delivery_latency_seconds_count'),
      subscriptionsWs: after.get(key('apg_subscriptions_active', { transport: 'ws' })),
      subscriptionsSse: after.get(key('apg_subscriptions_active', { transport: 'sse' })),
      websockets: after.get(key('apg_websocket_connections')),
    }).toEqual({
      mutation: 3,
      sessionStarted: 1,
      requestQueued: 1,
      sessionEnded: 1,
      durableRaw: raw ? 1 : 0,
      liveRaw: raw ? 1 : 0,
      anyOtherRaw: [0, 0, 0],
      deliveredWs: raw ? 8 : 6,
      deliveredSse: raw ? 5 : 3,
      replayedInitial: 1,
      replayedResume: 1,
      replayedRefill: 0,
      rateLimited: 1,
      droppedChannel: raw ? 1 : 0,
      droppedHistory: 0,
      latencyCount: raw ? 9 : 7,
      subscriptionsWs: 0,
      subscriptionsSse: 0,
      websockets: 0,
    });
    // Every latency is non-negative and, on one machine, well under five seconds.
    const latencies = delta('apg_event_delivery_latency_seconds_count');
    expect(delta('apg_event_delivery_latency_seconds_bucket', { le: '5' })).toBe(latencies);
    expect(delta('apg_event_delivery_latency_seconds_sum')).toBeGreaterThanOrEqual(0);
    expect(delta('apg_event_delivery_latency_seconds_sum')).toBeLessThan(5 * latencies);

    // The Redis connections are reported on the Redis store only.
    expect(after.get(key('apg_redis_connection_up', { connection: 'commands' }))).toBe(raw ? 1 : undefined);
    expect(after.get(key('apg_redis_connection_up', { connection: 'subscriber' }))).toBe(raw ? 1 : undefined);
  });
});

describe('apg_redis_connection_up', () => {
  it('is 0 for each connection while Redis is down and 1 again once it is back', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const gw = await startGateway({ store: 'redis', redisUrl: server.url });
    onTestFinished(() => gw.stop());
    const up = async () => {
      const samples = await scrape(gw);
      return ['commands', 'subscriber'].map((connection) => samples.get(key('apg_redis_connection_up', { connection })));
    };

    expect(await up()).toEqual([1, 1]);
    await server.kill();
    await expect.poll(up, { timeout: 10_000 }).toEqual([0, 0]);
    await server.restart();
    await expect.poll(up, { timeout: 10_000 }).toEqual([1, 1]);
  });
});
