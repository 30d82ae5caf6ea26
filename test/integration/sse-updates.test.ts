import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { channelKey, streamKey } from '../../src/bus/redis-keys.js';
import { VARIANTS } from '../../src/events/variants.js';
import { within } from '../support/auth.js';
import { graphql } from '../support/clients.js';
import { tcpProxyForTest } from '../support/tcp-proxy.js';
import { startGateway, STORES, type Store, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, END_SESSION, PUBLISH, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';

/** A guard against a stuck test, never a way to wait. */
const GUARD_MS = 10_000;

async function gateway(store: Store, config: Parameters<typeof startGateway>[0]['config'] = {}): Promise<TestGateway> {
  // A queue of its own: the jobs submitted here must not reach tests that take jobs from the shared Redis.
  const requestQueueKey = `queue:sse-updates-test:${randomUUID()}`;
  const gw = await startGateway({ store, redisUrl: inject('redisUrl'), config: { requestQueueKey, ...config } });
  onTestFinished(() => gw.stop());
  if (gw.redisUrl) {
    onTestFinished(async () => {
      const redis = new Redis(gw.redisUrl!);
      await redis.del(requestQueueKey);
      await redis.quit();
    });
  }
  return gw;
}

async function newSession(gw: TestGateway, userId = 'alice'): Promise<string> {
  const sessionId = `s-${randomUUID()}`;
  expect((await graphql(gw.url, START_SESSION, { sessionId }, userId)).errors).toBeUndefined();
  return sessionId;
}

async function publish(gw: TestGateway, sessionId: string, event: Record<string, unknown>, requestId?: string) {
  const result = await graphql(gw.url, PUBLISH, { sessionId, ...(requestId ? { requestId } : {}), event });
  expect(result.errors).toBeUndefined();
}

function updatesUrl(base: string, path: string, params: Record<string, string> = { userId: 'alice' }): string {
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

interface Received {
  event: string;
  lastEventId: string;
  data: Record<string, any>;
}

/**
 * A real EventSource (the `eventsource` package) collecting every message by its event name. It closes itself on
 * `done` and on an `error` message, as a client should (otherwise it would reconnect).
 */
class Updates {
  readonly es: EventSource;
  readonly received: Received[] = [];
  opens = 0;
  private readonly changed = new EventEmitter();

  constructor(url: string) {
    this.es = new EventSource(url);
    onTestFinished(() => this.es.close());
    this.es.addEventListener('open', () => {
      this.opens += 1;
      this.changed.emit('change');
    });
    for (const name of [...VARIANTS.map((variant) => variant.type), 'done', 'error']) {
      this.es.addEventListener(name, (event) => {
        // A failed connection is an `error` too, without data.
        if (!('data' in event) || typeof event.data !== 'string') return this.changed.emit('change');
        this.received.push({ event: name, lastEventId: event.lastEventId, data: JSON.parse(event.data) });
        if (name === 'done' || name === 'error') this.es.close();
        this.changed.emit('change');
      });
    }
  }

  get events(): Received[] {
    return this.received.filter((message) => message.event !== 'done' && message.event !== 'error');
  }

  get last(): Received | undefined {
    return this.received.at(-1);
  }

  until(predicate: (updates: this) => boolean, what: string): Promise<void> {
    return within(
      (async () => {
        while (!predicate(this)) await once(this.changed, 'change');
      })(),
      GUARD_MS,
      what,
    );
  }
}


async function sseSubscriptions(gw: TestGateway): Promise<number> {
  const metric = await gw.app.metrics.subscriptions.get();
  return metric.values.find((value) => value.labels['transport'] === 'sse')?.value ?? 0;
}

describe.each(STORES)('SSE updates at /updates/{sessionId}/{requestId} (%s)', (store) => {
  it('streams the session’s events with id, event and data, then done when the session ends', async () => {
    const gw = await gateway(store);
    const sessionId = await newSession(gw);
    await publish(gw, sessionId, { progress: { percent: 10, message: 'half' } });
    const updates = new Updates(updatesUrl(gw.url, `/updates/${sessionId}`));
    await updates.until((u) => u.events.length === 2, 'history replayed');
    await publish(gw, sessionId, { progress: { percent: 20 } });
    await updates.until((u) => u.events.length === 3, 'live event');

    expect(updates.events.map((m) => [m.event, m.lastEventId, m.data['id'], m.data['seq']])).toEqual([
      ['SESSION_STARTED', '1', '1', 1],
      ['PROGRESS', '2', '2', 2],
      ['PROGRESS', '3', '3', 3],
    ]);
    // The fields the GraphQL AgentEvent exposes, with the variant's own.
    expect(updates.events[1]!.data).toEqual({
      id: '2',
      seq: 2,
      type: 'PROGRESS',
      sessionId,
      requestId: null,
      agent: null,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      ephemeral: false,
      percent: 10,
      message: 'half',
    });

    expect((await graphql(gw.url, END_SESSION, { sessionId })).errors).toBeUndefined();
    await updates.until((u) => u.last?.event === 'done', 'done');
    expect(updates.events.at(-1)!.event).toBe('SESSION_ENDED');
    expect(updates.es.readyState).toBe(EventSource.CLOSED);
    await expect.poll(() => sseSubscriptions(gw)).toBe(0);
  });

  it('answers with event-stream headers that keep caches and proxies from buffering', async () => {
    const gw = await gateway(store);
    const sessionId = await newSession(gw);
    const abort = new AbortController();
    onTestFinished(() => abort.abort());
    const response = await fetch(updatesUrl(gw.url, `/updates/${sessionId}`), { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
  });

  it('a request’s stream resumes across a forced disconnect from Last-Event-ID: every event once, in order, then done', async () => {
    const gw = await gateway(store);
    const proxy = await tcpProxyForTest(gw.url);
    const sessionId = await newSession(gw);
    const submitted = await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input: { prompt: 'go' } });
    const requestId = String(submitted.data!['submitRequest']['id']);
    // Another request's events are not in this stream.
    const other = String((await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input: {} })).data!['submitRequest']['id']);

    const updates = new Updates(updatesUrl(proxy.url, `/updates/${sessionId}/${requestId}`));
    await publish(gw, sessionId, { runStarted: { message: 'on it' } }, requestId);
    for (let i = 1; i <= 10; i++) await publish(gw, sessionId, { progress: { percent: i } }, requestId);
    await publish(gw, sessionId, { progress: { percent: 1 } }, other);
    await updates.until((u) => u.events.some((m) => m.data['percent'] === 10), 'events before the disconnect');
    const lastBefore = updates.events.at(-1)!.lastEventId;

    proxy.cut();
    for (let i = 11; i <= 20; i++) await publish(gw, sessionId, { progress: { percent: i } }, requestId);
    await updates.until((u) => u.opens === 2, 'reconnected');
    for (let i = 21; i <= 30; i++) await publish(gw, sessionId, { progress: { percent: i } }, requestId);
    await publish(gw, sessionId, { runFinished: { result: { answer: 42 } } }, requestId);
    await updates.until((u) => u.last?.event === 'done', 'done');

    // The reconnect asked to resume right after the last event received.
    const reconnect = proxy.heads.filter((head) => head.startsWith(`GET /updates/${sessionId}/${requestId}`)).at(-1)!;
    expect(reconnect.toLowerCase()).toContain(`last-event-id: ${lastBefore}`);
    // Exactly the request's history, once each, in order.
    const history = await graphql(gw.url, AGENT_EVENTS, { sessionId, requestId, first: 1000 });
    const ids = (history.data!['agentEvents'] as { id: string }[]).map((event) => event.id);
    expect(ids).toHaveLength(33); // REQUEST_QUEUED, RUN_STARTED, 30 × PROGRESS, RUN_FINISHED
    expect(updates.events.map((m) => m.lastEventId)).toEqual(ids);
    expect(updates.events.map((m) => m.data['percent'] ?? null)).toEqual([null, null, ...Array.from({ length: 30 }, (_, i) => i + 1), null]);
    expect(updates.events.at(-1)!.data).toMatchObject({ type: 'RUN_FINISHED', requestId, result: { answer: 42 } });
    expect(updates.received.filter((m) => m.event === 'error')).toEqual([]);
    await expect.poll(() => sseSubscriptions(gw)).toBe(0);
  });

  it('resumes from the cursor query parameter', async () => {
    const gw = await gateway(store);
    const sessionId = await newSession(gw);
    for (let i = 1; i <= 3; i++) await publish(gw, sessionId, { progress: { percent: i } });
    const updates = new Updates(updatesUrl(gw.url, `/updates/${sessionId}`, { userId: 'alice', cursor: '2' }));
    await updates.until((u) => u.events.length === 2, 'events after the cursor');
    expect(updates.events.map((m) => m.data['seq'])).toEqual([3, 4]);
  });

  it('refuses with the coded status before streaming', async () => {
    const gw = await gateway(store, store === 'memory' ? { historyMaxEvents: 5 } : {});
    const sessionId = await newSession(gw);
    for (let i = 1; i <= 10; i++) await publish(gw, sessionId, { progress: { percent: i } });
    if (store === 'redis') {
      // Redis trims approximately (whole stream nodes); trim exactly, as a long run would have.
      const redis = new Redis(gw.redisUrl!);
      onTestFinished(async () => void (await redis.quit()));
      await redis.xtrim(streamKey({ userId: 'alice', sessionId }), 'MAXLEN', 5);
    }
    const refusal = async (path: string, params: Record<string, string> = { userId: 'alice' }, init: RequestInit = {}) => {
      const response = await fetch(updatesUrl(gw.url, path, params), init);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.message).toEqual(expect.any(String));
      return [response.status, body.errors[0]!.extensions.code];
    };
    expect(await refusal(`/updates/${sessionId}`, { userId: 'alice', cursor: 'not-a-cursor' })).toEqual([400, 'INVALID_CURSOR']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'alice', cursor: '99' })).toEqual([400, 'INVALID_CURSOR']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'alice' }, { headers: { 'last-event-id': 'x' } })).toEqual([400, 'INVALID_CURSOR']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'alice', cursor: '1' })).toEqual([410, 'CURSOR_EXPIRED']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'mallory' })).toEqual([404, 'SESSION_NOT_FOUND']);
    expect(await refusal(`/updates/s-${randomUUID()}`)).toEqual([404, 'SESSION_NOT_FOUND']);
    expect(await refusal(`/updates/${sessionId}/bad%20id`)).toEqual([400, 'BAD_USER_INPUT']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'not a user!' })).toEqual([401, 'UNAUTHENTICATED']);
    expect(await refusal(`/updates/${sessionId}`, { userId: 'alice' }, { method: 'POST' })).toEqual([405, 'BAD_REQUEST']);

    // A real EventSource gives up on a refusal instead of reconnecting.
    const updates = new Updates(updatesUrl(gw.url, `/updates/${sessionId}`, { userId: 'mallory' }));
    await updates.until((u) => u.es.readyState === EventSource.CLOSED, 'EventSource closed');
    expect(updates.received).toEqual([]);
  });

  it('ends open streams on drain with UNAVAILABLE (SHUTTING_DOWN)', async () => {
    const gw = await gateway(store);
    const sessionId = await newSession(gw);
    const updates = new Updates(updatesUrl(gw.url, `/updates/${sessionId}`));
    await updates.until((u) => u.events.length === 1, 'first event');
    await gw.stop();
    await updates.until((u) => u.last?.event === 'error', 'error event');
    expect(updates.last!.data).toMatchObject({ errors: [{ extensions: { code: 'UNAVAILABLE', reason: 'SHUTTING_DOWN' } }] });
  });
});

describe('SSE updates and Redis subscriptions', () => {
  it('no pub/sub subscription is left once the clients disconnect', async () => {
    const gw = await gateway('redis');
    const redis = new Redis(gw.redisUrl!);
    onTestFinished(async () => void (await redis.quit()));
    const sessionId = await newSession(gw);
    const channel = channelKey({ userId: 'alice', sessionId });
    const numsub = async () => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);

    const clients = Array.from({ length: 3 }, () => new Updates(updatesUrl(gw.url, `/updates/${sessionId}`)));
    for (const client of clients) await client.until((u) => u.events.length === 1, 'first event');
    await expect.poll(numsub).toBeGreaterThan(0);
    expect(await sseSubscriptions(gw)).toBe(3);

    for (const client of clients) client.es.close();
    await expect.poll(numsub).toBe(0);
    await expect.poll(() => sseSubscriptions(gw)).toBe(0);
  });
});
