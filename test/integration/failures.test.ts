import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { streamKey } from '../../src/bus/redis-keys.js';
import { graphql, subscribe, subscribeSse, wsClient } from '../support/clients.js';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process.js';
import { AGENT_PROGRESS, PUBLISH, START_SESSION } from '../support/operations.js';
import { startRedisServer } from '../support/redis-server.js';
import { ResumingSubscriber, type ProgressEvent } from '../support/resuming-subscriber.js';
import { Waiters } from '../support/waiters.js';

/**
 * Failures with real processes: gateways spawned as `npm start` runs them, a real redis-server killed and restarted.
 * Every test awaits events, close codes, exits or probes; none sleeps to synchronise.
 */

const DEADLINE_SECONDS = 5;
/** Publishing as fast as possible: the per-session rate limit is not under test here. */
const GATEWAY_ENV = { PUBLISH_RATE_PER_SESSION: '0', SHUTDOWN_TIMEOUT_SECONDS: String(DEADLINE_SECONDS) };

async function gateways(redisUrl: string, count: number, env: Record<string, string> = {}): Promise<GatewayProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => spawnGateway({ ...GATEWAY_ENV, REDIS_URL: redisUrl, ...env })));
  onTestFinished(async () => {
    await Promise.all(started.map((g) => g.stop('SIGKILL')));
  });
  return started;
}

async function startSession(url: string): Promise<string> {
  const sessionId = `s-${randomUUID()}`;
  const result = await graphql(url, START_SESSION, { sessionId });
  expect(result.errors).toBeUndefined();
  return sessionId;
}

const readiness = async (g: GatewayProcess) => (await fetch(new URL('/ready', g.url))).status;

interface Attempt {
  message: string;
  /** Acknowledged with this seq. */
  seq?: number;
  /** Refused with this code (UNAVAILABLE is the only one expected). */
  code?: string;
  /** How long the answer took. */
  ms: number;
}

/**
 * An agent publishing `m1`, `m2`, … one after another over HTTP while `keepGoing` holds, recording for each
 * publish whether it was acknowledged (with its seq) or refused with UNAVAILABLE. Anything else fails the test.
 */
class Publisher {
  readonly attempts: Attempt[] = [];
  failure: Error | undefined;
  readonly done: Promise<void>;
  private readonly waiters = new Waiters();

  constructor(
    private readonly url: () => string,
    private readonly sessionId: string,
    private readonly keepGoing: (publisher: Publisher) => boolean,
    private readonly max = 5_000,
  ) {
    this.done = this.run().catch((error: Error) => {
      this.failure = error;
      this.notify();
    });
  }

  get acked() {
    return this.attempts.filter((a) => a.seq !== undefined);
  }

  get refused() {
    return this.attempts.filter((a) => a.code !== undefined);
  }

  private async run() {
    while (this.keepGoing(this)) {
      if (this.attempts.length >= this.max) throw new Error(`still publishing after ${this.max} attempts`);
      const n = this.attempts.length + 1;
      const message = `m${n}`;
      const sent = Date.now();
      const result = await graphql(this.url(), PUBLISH, { sessionId: this.sessionId, agent: 'publisher', event: { progress: { percent: n % 101, message } } });
      const seq = result.data?.['publishAgentEvent']?.seq as number | undefined;
      const code = result.errors?.[0]?.extensions?.['code'];
      if (seq === undefined && code !== 'UNAVAILABLE') throw new Error(`publish ${message} got ${JSON.stringify(result)}`);
      const ms = Date.now() - sent;
      this.attempts.push(seq === undefined ? { message, code: code as string, ms } : { message, seq, ms });
      this.notify();
      // An agent's retry back-off while Redis is away (not a synchronisation: nothing waits on it).
      if (seq === undefined) await delay(20);
    }
  }

  private notify() {
    this.waiters.notify();
  }

  until(ready: (publisher: this) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return this.waiters.until(() => (this.failure ? { error: this.failure } : ready(this) ? { value: undefined } : undefined), {
      ms: timeoutMs,
      message: () => `timed out waiting for ${what}: ${this.attempts.length} attempts`,
    });
  }

  async finished(): Promise<void> {
    await this.done;
    if (this.failure) throw this.failure;
  }
}

/**
 * Accounts for every publish in what a subscriber received: acknowledged ones exactly once, at their seq; refused
 * ones at most once (a publish whose reply was lost with the connection may have happened); nothing else; seqs
 * contiguous from 1 and in order.
 */
function account(events: ProgressEvent[], attempts: Attempt[]) {
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  expect(events[0]?.['type']).toBe('SESSION_STARTED');
  const received = new Map<string, ProgressEvent[]>();
  for (const event of events.slice(1)) received.set(event['message'], [...(received.get(event['message']) ?? []), event]);
  const byMessage = new Map(attempts.map((a) => [a.message, a]));
  const acked = attempts.filter((a) => a.seq !== undefined);
  const lost = acked.filter((a) => !received.has(a.message)).length;
  const duplicated = [...received.values()].reduce((sum, copies) => sum + copies.length - 1, 0);
  const unknown = [...received.keys()].filter((message) => !byMessage.has(message));
  const deliveredLate = attempts.filter((a) => a.code !== undefined && received.has(a.message)).length;
  expect({ lost, duplicated, unknown }).toEqual({ lost: 0, duplicated: 0, unknown: [] });
  for (const a of acked) expect(received.get(a.message)?.[0]?.seq).toBe(a.seq);
  return { received: events.length - 1, lost, duplicated, deliveredLate };
}

function rawHttp(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  const waiters = new Set<() => void>();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1'); // byte for byte: WebSocket frames are binary
    for (const waiter of waiters) waiter();
  });
  return {
    socket,
    connected: once(socket, 'connect'),
    closed,
    get received() {
      return received;
    },
    /** Resolves once `text` has arrived; rejects if the connection closes first. */
    until(text: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.includes(text)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        void closed.then(() => {
          waiters.delete(check);
          if (received.includes(text)) resolve();
          else reject(new Error(`closed before "${text}": ${received}`));
        });
        check();
      });
    },
  };
}

describe('failures', () => {
  it('SIGTERM drains: readiness fails, new connections are refused, WebSockets get 1001, SSE ends, the publish in flight finishes, exit 0', async () => {
    const redisUrl = inject('redisUrl');
    const [g] = await gateways(redisUrl, 1);
    const sessionId = await startSession(g!.url);
    expect(await readiness(g!)).toBe(200);

    const closeCodes: number[] = [];
    const ws = createClient({
      url: g!.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { userId: 'alice' },
      retryAttempts: 0,
      lazy: true,
      on: { closed: (event) => closeCodes.push((event as { code: number }).code) },
    });
    onTestFinished(() => ws.dispose());
    const wsSub = subscribe(ws, AGENT_PROGRESS, { sessionId });
    const sseSub = subscribeSse(g!.url, AGENT_PROGRESS, { sessionId }, 'alice');
    onTestFinished(() => sseSub.unsubscribe());
    await Promise.all([wsSub.count(1), sseSub.count(1)]);

    // A probe whose request is still arriving, and a publish whose body is: both in flight when SIGTERM comes.
    const probe = rawHttp(g!.port);
    await probe.connected;
    probe.socket.write('GET /ready HTTP/1.1\r\nHost: gateway\r\n');
    const body = JSON.stringify({ query: PUBLISH, variables: { sessionId, agent: 'in-flight', event: { progress: { percent: 50, message: 'in flight' } } } });
    const publish = rawHttp(g!.port);
    publish.socket.write(
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    // The gateway has both requests' headers (the probe's bytes arrived before these).
    await publish.until('100 Continue');

    const signalled = Date.now();
    const exited = g!.stop('SIGTERM');
    await wsSub.done;
    expect(closeCodes).toEqual([1001]);

    // New connections are refused…
    const refused = await fetch(new URL('/health', g!.url)).then(
      () => 'answered',
      (error: Error & { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    // …readiness fails on a connection already open, which is then closed…
    probe.socket.write('\r\n');
    await probe.closed;
    expect(probe.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(probe.received.toLowerCase()).toContain('connection: close');
    expect(probe.received).toContain('"reason":"shutting down"');
    // …SSE streams end with a coded error telling the client to resubscribe elsewhere…
    expect(await sseSub.done).toBe('complete');
    expect(sseSub.errors.map((e) => [e.extensions?.['code'], e.extensions?.['reason']])).toEqual([['UNAVAILABLE', 'SHUTTING_DOWN']]);
    // …and the publish in flight completes.
    publish.socket.write(body);
    await publish.closed;
    expect(publish.received).toContain('HTTP/1.1 200 OK');
    const published = JSON.parse(publish.received.slice(publish.received.indexOf('{'))) as { data: { publishAgentEvent: { seq: number } } };
    expect(published.data.publishAgentEvent.seq).toBe(2);

    expect(await exited).toBe(0);
    const exitMs = Date.now() - signalled;
    expect(exitMs).toBeLessThan(DEADLINE_SECONDS * 1000);
    const stopped = g!.output.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['msg'] === 'stopped');
    expect(stopped?.['outcome']).toBe('drained');

    const redis = new Redis(redisUrl);
    onTestFinished(async () => {
      await redis.quit();
    });
    const history = await redis.xrange(streamKey({ userId: 'alice', sessionId }), '-', '+');
    expect(history.map(([id]) => id)).toEqual(['1-0', '2-0']);
    console.log(
      `[SIGTERM drain] exit 0 after ${exitMs} ms (deadline ${DEADLINE_SECONDS * 1000} ms); WebSocket closed ${closeCodes[0]}; ` +
        `new connection: ${refused}; in-flight /ready: 503; SSE ended with UNAVAILABLE/SHUTTING_DOWN; in-flight publish acknowledged ` +
        `(seq 2) and in history: sent 1, lost 0, duplicated 0`,
    );
  });

  it('SIGTERM with a peer that never answers the close and an upload that never ends: both destroyed at the deadline, exit 0', async () => {
    const [g] = await gateways(inject('redisUrl'), 1, { SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const mute = rawHttp(g!.port);
    mute.socket.write(
      'GET /graphql HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n',
    );
    await mute.until('101 Switching Protocols');
    const upload = rawHttp(g!.port);
    upload.socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{');
    await upload.until('100 Continue');

    const signalled = Date.now();
    const exitCode = await g!.stop('SIGTERM');
    const exitMs = Date.now() - signalled;
    await Promise.all([mute.closed, upload.closed]);
    expect(exitCode).toBe(0);
    expect(exitMs).toBeGreaterThanOrEqual(1000);
    expect(exitMs).toBeLessThan(4000);
    // The mute peer was asked to go away (a close frame with 1001) before it was cut off.
    expect(Buffer.from(mute.received, 'latin1').includes(Buffer.from([0x88, 12, 0x03, 0xe9]))).toBe(true);
    const lines = g!.output.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line['msg'] === 'shutdown deadline reached: destroyed the connections still open')).toMatchObject({ websockets: 1, requests: 1 });
    expect(lines.find((line) => line['msg'] === 'stopped')).toMatchObject({ outcome: 'deadline' });
    console.log(`[SIGTERM deadline] a mute WebSocket (sent 1001, never answered) and a stalled upload destroyed at the 1000 ms deadline; exit 0 after ${exitMs} ms`);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const expectedClose = signal === 'SIGTERM' ? 1001 : 1006;
    it(`${signal} of a replica mid-run: its client gets ${expectedClose}, resumes on the other from its cursor, and ends with every event exactly once, in order`, async () => {
      const [a, b] = await gateways(inject('redisUrl'), 2);
      const sessionId = await startSession(b!.url);
      const subscriber = new ResumingSubscriber([a!.wsUrl, b!.wsUrl], sessionId).start();
      onTestFinished(() => subscriber.dispose());
      await subscriber.until((s) => s.events.length >= 1, 'SESSION_STARTED');

      // Publishes go through B the whole time, until the subscriber has received 20 events live on B.
      const publisher = new Publisher(() => b!.url, sessionId, () => !(subscriber.perConnection.length > 1 && subscriber.perConnection[1]! >= 20));
      await subscriber.until((s) => s.events.length >= 31, '30 events on A');
      const signalled = Date.now();
      const exitCode = await a!.stop(signal);
      const exitMs = Date.now() - signalled;
      await subscriber.until((s) => s.closeCodes.length === 1, 'the close');
      await publisher.finished();
      const last = publisher.acked.at(-1)!.seq!;
      await subscriber.until((s) => s.events.at(-1)!.seq === last, `seq ${last}`);

      expect(subscriber.closeCodes).toEqual([expectedClose]);
      expect(exitCode).toBe(signal === 'SIGTERM' ? 0 : null);
      if (signal === 'SIGTERM') expect(exitMs).toBeLessThan(DEADLINE_SECONDS * 1000);
      expect(publisher.refused).toEqual([]);
      expect(subscriber.errors).toEqual([]);
      const counts = account(subscriber.events, publisher.attempts);
      console.log(
        `[${signal} of replica A] sent ${publisher.attempts.length}, received ${counts.received} (${subscriber.perConnection[0]! - 1} on A, ` +
          `${subscriber.perConnection[1]} on B after resuming from seq ${subscriber.resumedFrom[0]}), lost ${counts.lost}, duplicated ${counts.duplicated}; ` +
          `close ${subscriber.closeCodes[0]}; A exited ${exitCode ?? signal} after ${exitMs} ms`,
      );
    });
  }

  it('Redis SIGKILLed mid-run and restarted with its AOF: no crash, readiness follows, subscriptions recover, every publish accounted for', async () => {
    // fsync before every reply: with the default `everysec`, Redis postpones its AOF write while a slow background
    // fsync runs, so a SIGKILL can lose acknowledged writes — a loss this test would (rightly) report.
    const redis = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    onTestFinished(() => redis.stop());
    const [a, b] = await gateways(redis.url, 2);
    const sessionId = await startSession(b!.url);
    // A plain subscription that never reconnects: it must survive the outage as it is.
    const client = wsClient(a!.wsUrl);
    onTestFinished(() => client.dispose());
    const sub = subscribe<ProgressEvent>(client, AGENT_PROGRESS, { sessionId });
    await sub.count(1);

    let restarted = false;
    let ackedBeforeRestart = 0;
    const publisher = new Publisher(() => b!.url, sessionId, (p) => !restarted || p.acked.length - ackedBeforeRestart < 30);
    await publisher.until((p) => p.acked.length >= 30, '30 publishes');
    const killedAt = Date.now();
    await redis.kill();
    await expect.poll(() => Promise.all([readiness(a!), readiness(b!)]), { timeout: 10_000 }).toEqual([503, 503]);
    await publisher.until((p) => p.refused.length >= 5, '5 refused publishes');
    // Liveness holds, and neither gateway died.
    expect(await Promise.all([a, b].map(async (g) => (await fetch(new URL('/health', g!.url))).status))).toEqual([200, 200]);
    expect([a!.child.exitCode, b!.child.exitCode]).toEqual([null, null]);

    await redis.restart();
    await expect.poll(() => Promise.all([readiness(a!), readiness(b!)]), { timeout: 10_000 }).toEqual([200, 200]);
    const outageMs = Date.now() - killedAt;
    ackedBeforeRestart = publisher.acked.length;
    restarted = true;
    await publisher.finished();
    const last = publisher.acked.at(-1)!.seq!;
    await sub.until((s) => s.events.at(-1)?.seq === last, `seq ${last}`);

    expect(sub.errors).toEqual([]);
    expect(sub.outcome).toBeUndefined();
    expect([a!.child.exitCode, b!.child.exitCode]).toEqual([null, null]);
    const counts = account(sub.events, publisher.attempts);
    // Refused in bounded time: at once while Redis is known to be down, at worst after the 5 s command timeout.
    const slowestRefusal = Math.max(...publisher.refused.map((a) => a.ms));
    expect(slowestRefusal).toBeLessThan(6_000);
    // A's subscriber connection came back and caught its subscription up from history (logged once done).
    await expect.poll(() => a!.output.some((line) => line.includes('resyncing subscribers from history'))).toBe(true);
    console.log(
      `[Redis SIGKILL + AOF restart] sent ${publisher.attempts.length}: acknowledged ${publisher.acked.length}, refused UNAVAILABLE ` +
        `${publisher.refused.length} (slowest refusal ${slowestRefusal} ms; delivered anyway ${counts.deliveredLate}); received ${counts.received}, lost ${counts.lost}, ` +
        `duplicated ${counts.duplicated}; /ready 503 during the ${outageMs} ms outage, 200 after; the subscription on A resynced from history ` +
        `without reconnecting; no gateway exited`,
    );
  });
});
