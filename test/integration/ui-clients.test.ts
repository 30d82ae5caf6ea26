import { randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { EndSessionDocument, StartSessionDocument } from '../../client/generated/graphql.js';
import { createApolloGateway, followSessionWithApollo, type AgentEvent, type FollowSessionOptions } from '../../examples/ui-clients/apollo.js';
import type { Credentials, KeepAlive } from '../../examples/ui-clients/connection.js';
import { codeOf, type CodedError, type FollowEnd, type Follower } from '../../examples/ui-clients/resume.js';
import { createUrqlGateway, followSessionWithUrql } from '../../examples/ui-clients/urql.js';
import { channelKey, sessionKey, streamKey } from '../../src/bus/redis-keys.js';
import { redisGatewayForTest } from '../support/gateway.js';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process.js';
import { Waiters } from '../support/waiters.js';

/**
 * The UI examples in examples/ui-clients/, driven as a UI drives them, against real gateways on real Redis: each
 * client's list must end with every durable event once, in order, however its connection is lost.
 */

const RUN = 500;
/** Live-only events go out after every this many durable ones. */
const LIVE_EVERY = 50;

interface UiConnection {
  httpUrl: string;
  wsUrl: string;
  credentials: () => Credentials;
  keepAlive?: KeepAlive;
}

/** What the tests need of a UI client: its HTTP mutations and the example's follow function. */
interface UiClient {
  startSession(sessionId: string): Promise<void>;
  endSession(sessionId: string): Promise<void>;
  follow(options: FollowSessionOptions): Follower;
  dispose(): Promise<void>;
}

const CLIENTS: { name: string; connect(connection: UiConnection): UiClient }[] = [
  {
    name: 'Apollo Client (GraphQLWsLink)',
    connect(connection) {
      const gateway = createApolloGateway({ ...connection, webSocketImpl: WebSocket });
      return {
        async startSession(sessionId) {
          const { data } = await gateway.apollo.mutate({ mutation: StartSessionDocument, variables: { sessionId } });
          expect(data?.startSession?.id).toBe(sessionId);
        },
        async endSession(sessionId) {
          const { data } = await gateway.apollo.mutate({ mutation: EndSessionDocument, variables: { sessionId } });
          expect(data?.endSession?.id).toBe(sessionId);
        },
        follow: (options) => followSessionWithApollo(gateway, options),
        dispose: () => gateway.dispose(),
      };
    },
  },
  {
    name: 'urql (subscriptionExchange)',
    connect(connection) {
      const gateway = createUrqlGateway({ ...connection, webSocketImpl: WebSocket });
      return {
        async startSession(sessionId) {
          const { data, error } = await gateway.urql.mutation(StartSessionDocument, { sessionId }).toPromise();
          expect(error).toBeUndefined();
          expect(data?.startSession?.id).toBe(sessionId);
        },
        async endSession(sessionId) {
          const { data, error } = await gateway.urql.mutation(EndSessionDocument, { sessionId }).toPromise();
          expect(error).toBeUndefined();
          expect(data?.endSession?.id).toBe(sessionId);
        },
        follow: (options) => followSessionWithUrql(gateway, options),
        dispose: () => gateway.dispose(),
      };
    },
  },
];

/** A UI's list of events, filled by an example's follow function, with ways to await what it should hold. */
class UiList {
  readonly events: AgentEvent[] = [];
  readonly reloads: CodedError[] = [];
  readonly errors: { error: CodedError; closeCode: number | undefined }[] = [];
  /** The cursor at each reconnect: what the next subscription resumed from. */
  readonly resumedFrom: (string | undefined)[] = [];
  completed = false;
  /** How following ended, once it has. */
  end: FollowEnd | undefined;
  readonly follower: Follower;
  private readonly waiters = new Waiters();

  constructor(client: UiClient, sessionId: string) {
    this.follower = client.follow({
      sessionId,
      onEvent: (event) => this.changed(() => this.events.push(event)),
      onReload: (error) => this.changed(() => this.reloads.push(error)),
      onComplete: () => this.changed(() => (this.completed = true)),
      onError: (error, closeCode) => this.changed(() => this.errors.push({ error, closeCode })),
      onReconnecting: () => this.changed(() => this.resumedFrom.push(this.follower.cursor)),
    });
    void this.follower.done.then((how) => this.changed(() => (this.end = how)));
    onTestFinished(() => this.follower.stop());
  }

  get durable(): AgentEvent[] {
    return this.events.filter((e) => !e.ephemeral);
  }

  /** The `message`s of the PROGRESS events received, durable or live-only. */
  messages(ephemeral: boolean): (string | null)[] {
    return this.events.filter((e) => !!e.ephemeral === ephemeral && e.type === 'PROGRESS').map((e) => ('message' in e ? e.message : null));
  }

  private changed(change: () => unknown) {
    change();
    this.waiters.notify();
  }

  /** Resolves once `ready()` holds; rejects if following ends first (or after 20 s: a stuck test). */
  until(ready: (list: this) => boolean, what: string): Promise<void> {
    return this.waiters.until(
      () =>
        ready(this)
          ? { value: undefined }
          : this.end
            ? { error: new Error(`following ended (${JSON.stringify(this.end)}) before ${what}: ${this.summary()}`) }
            : undefined,
      { ms: 20_000, message: () => `timed out waiting for ${what}: ${this.summary()}` },
    );
  }

  private summary() {
    return `${this.durable.length} durable events (last seq ${this.durable.at(-1)?.seq}), resumed from ${JSON.stringify(this.resumedFrom)}, errors ${JSON.stringify(this.errors)}`;
  }
}

/**
 * A TCP proxy in front of a gateway, so a test can lose a client's connection the way a network does: reset at both
 * ends with no WebSocket close frame, or just gone silent. While held, new connections wait (unanswered).
 */
async function tcpProxy(targetPort: number) {
  const pairs = new Set<[Socket, Socket]>();
  let held: Promise<void> | undefined;
  let release = () => {};
  let accepted = 0;
  const server = createServer(async (downstream) => {
    accepted += 1;
    downstream.on('error', () => {});
    await held;
    if (downstream.destroyed) return;
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.on('error', () => {});
    const pair: [Socket, Socket] = [downstream, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('close', drop);
    upstream.on('close', drop);
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const [downstream, upstream] of pairs) {
      downstream.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  onTestFinished(() => {
    cut();
    server.close();
  });
  return {
    wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    get accepted() {
      return accepted;
    },
    /** Resets every proxied connection. */
    cut,
    /** Stops forwarding on every proxied connection without closing it: neither end hears from the other again. */
    silence() {
      for (const [downstream, upstream] of pairs) {
        downstream.unpipe(upstream);
        upstream.unpipe(downstream);
        downstream.pause();
        upstream.pause();
      }
    },
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release() {
      held = undefined;
      release();
    },
  };
}

/** An agent writing straight into Redis: durable events by FCALL apg_publish, live-only ones by plain PUBLISH. */
function agent(redis: Redis, userId: string, sessionId: string) {
  const ref = { userId, sessionId };
  return {
    /** Durable PROGRESS events m{from} … m{to}, each followed by a live-only one every LIVE_EVERY events. */
    async publish(from: number, to: number) {
      for (let n = from; n <= to; n++) {
        await redis.call('FCALL', 'apg_publish', 2, streamKey(ref), sessionKey(sessionId), JSON.stringify({ type: 'PROGRESS', percent: n % 101, message: `m${n}` }));
        if (n % LIVE_EVERY === 0) await redis.publish(channelKey(ref), JSON.stringify({ type: 'PROGRESS', percent: n % 101, message: `live${n}` }));
      }
    },
    /** The seq of the oldest event the history still holds. */
    async firstRetainedSeq(): Promise<number> {
      const [first] = await redis.xrange(streamKey(ref), '-', '+', 'COUNT', 1);
      return Number(first![0].split('-')[0]);
    },
  };
}

/** Every durable event of a run of `length` once, in seq order, and the live-only ones where they were published. */
function expectCompleteRun(ui: UiList, length = RUN) {
  const expected = Array.from({ length }, (_, i) => `m${i + 1}`);
  expect(ui.durable.map((e) => e.seq)).toEqual(Array.from({ length: length + 2 }, (_, i) => i + 1));
  expect(ui.durable.map((e) => e.type)).toEqual(['SESSION_STARTED', ...expected.map(() => 'PROGRESS'), 'SESSION_ENDED']);
  expect(ui.messages(false)).toEqual(expected);
  expect(new Set(ui.durable.map((e) => e.id)).size).toBe(length + 2);
  expect(ui.follower.duplicates).toBe(0);
  // Live-only events are never replayed: those sent while the UI was away are gone. The others arrive once, right
  // after the durable event they followed, carrying its seq and id.
  const live = ui.messages(true);
  expect(new Set(live).size).toBe(live.length);
  expect(live).toContain(`live${LIVE_EVERY}`);
  ui.events.forEach((event, index) => {
    if (!event.ephemeral) return;
    const before = ui.events[index - 1]!;
    const n = String('message' in event && event.message).slice('live'.length);
    expect({ ephemeral: before.ephemeral, seq: before.seq, id: before.id, message: 'message' in before && before.message }).toEqual({
      ephemeral: false,
      seq: event.seq,
      id: event.id,
      message: `m${n}`,
    });
  });
  expect({ reloads: ui.reloads, errors: ui.errors, completed: ui.completed }).toEqual({ reloads: [], errors: [], completed: true });
}

/**
 * The UI resumed once, from the middle of the run (after its first 100 events, before everything after its cursor
 * had been published); then the session ends and the UI holds the complete run.
 */
async function expectResumedMidRunThenComplete(ui: UiClient, sessionId: string, list: UiList): Promise<void> {
  const [resumed, ...more] = resumedSeqs(list);
  expect(more).toEqual([]);
  expect(resumed).toBeGreaterThanOrEqual(100);
  expect(resumed).toBeLessThanOrEqual(RUN / 2 + 1);
  await ui.endSession(sessionId);
  expect(await list.follower.done).toEqual({ kind: 'completed' });
  expectCompleteRun(list);
}

/** A new user's UI on `urls`, disposed after the test, with a session it started and follows. */
async function openSession(
  client: (typeof CLIENTS)[number],
  urls: Pick<UiConnection, 'httpUrl' | 'wsUrl' | 'keepAlive'>,
): Promise<{ ui: UiClient; userId: string; sessionId: string; list: UiList }> {
  const userId = `ui-${randomUUID()}`;
  const ui = client.connect({ ...urls, credentials: () => ({ userId }) });
  onTestFinished(() => ui.dispose());
  const sessionId = `s-${randomUUID()}`;
  await ui.startSession(sessionId);
  return { ui, userId, sessionId, list: new UiList(ui, sessionId) };
}

/** The seqs of the cursors the UI resumed from, each once (every attempt during one outage uses the same). */
function resumedSeqs(ui: UiList): (number | null | undefined)[] {
  return [...new Set(ui.resumedFrom)].map((cursor) => ui.durable.find((e) => e.id === cursor)?.seq);
}

describe.each(CLIENTS)('a UI following a session with $name', (client) => {
  it(`keeps all ${RUN} events, in order and once, when its WebSocket is dropped mid-run`, async () => {
    const { gw, redis } = await redisGatewayForTest();
    const proxy = await tcpProxy(Number(new URL(gw.url).port));
    const { ui, userId, sessionId, list } = await openSession(client, { httpUrl: gw.url, wsUrl: proxy.wsUrl });
    await list.until((l) => l.durable.length === 1, 'SESSION_STARTED');

    const publisher = agent(redis, userId, sessionId);
    await publisher.publish(1, RUN / 2);
    await list.until((l) => l.durable.length > 100, '100 events');
    proxy.cut();
    // The rest goes out while the UI is away, or resuming: it must come from history and live, once.
    await publisher.publish(RUN / 2 + 1, RUN);
    await list.until((l) => l.durable.length === RUN + 1, `all ${RUN} events`);
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    await expectResumedMidRunThenComplete(ui, sessionId, list);
  });

  // Abrupt drops are the test above; this is a restart as a deploy does it: the gateway drains (1001) and exits, and
  // a new process takes the same port while the agent keeps publishing.
  it(`keeps all ${RUN} events, in order and once, when the gateway process restarts mid-run`, { timeout: 60_000 }, async () => {
    const redisUrl = inject('redisUrl');
    const processes: GatewayProcess[] = [];
    onTestFinished(async () => {
      await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    });
    const start = async (port: number) => {
      const gateway = await spawnGateway({ REDIS_URL: redisUrl, PORT: String(port), SHUTDOWN_TIMEOUT_SECONDS: '2' });
      processes.push(gateway);
      return gateway;
    };
    const first = await start(0);
    const redis = new Redis(redisUrl);
    onTestFinished(async () => {
      await redis.quit();
    });
    // The UI keeps its URLs: the new process listens on the same port.
    const { ui, userId, sessionId, list } = await openSession(client, { httpUrl: first.url, wsUrl: first.wsUrl });
    await list.until((l) => l.durable.length === 1, 'SESSION_STARTED');

    const publisher = agent(redis, userId, sessionId);
    await publisher.publish(1, RUN / 2);
    await list.until((l) => l.durable.length > 100, '100 events');
    expect(await first.stop('SIGTERM')).toBe(0);
    // Published while no gateway runs: the Redis Function stays loaded in Redis.
    await publisher.publish(RUN / 2 + 1, RUN);
    await start(first.port);
    await list.until((l) => l.durable.length === RUN + 1, `all ${RUN} events`);
    await expectResumedMidRunThenComplete(ui, sessionId, list);
  });

  it('notices a connection gone silent (no close, no reset) by its unanswered ping, and resumes', async () => {
    const { gw, redis } = await redisGatewayForTest();
    const proxy = await tcpProxy(Number(new URL(gw.url).port));
    // Short enough for a test; the default (12 s, then 6 s for the pong) suits a UI.
    const keepAlive = { intervalMs: 200, timeoutMs: 200 };
    const { ui, userId, sessionId, list } = await openSession(client, { httpUrl: gw.url, wsUrl: proxy.wsUrl, keepAlive });
    const publisher = agent(redis, userId, sessionId);
    await publisher.publish(1, 100);
    await list.until((l) => l.durable.length === 101, '100 events');

    proxy.silence();
    await publisher.publish(101, 200);
    await list.until((l) => l.durable.length === 201, '200 events');
    expect(resumedSeqs(list)).toEqual([101]);

    await ui.endSession(sessionId);
    expect(await list.follower.done).toEqual({ kind: 'completed' });
    expectCompleteRun(list, 200);
  });

  it('stops and asks the UI to reload when the history no longer reaches back to its cursor (CURSOR_EXPIRED)', async () => {
    // A short history, so the events after the UI's cursor age out while it is away.
    const { gw, redis } = await redisGatewayForTest({ historyMaxEvents: 10 });
    const proxy = await tcpProxy(Number(new URL(gw.url).port));
    const { ui, userId, sessionId, list } = await openSession(client, { httpUrl: gw.url, wsUrl: proxy.wsUrl });
    const publisher = agent(redis, userId, sessionId);
    await publisher.publish(1, 5);
    await list.until((l) => l.durable.length === 6, '6 events');

    // Away: the reconnect waits at the proxy while the history is trimmed past the UI's cursor.
    proxy.hold();
    proxy.cut();
    await list.until((l) => l.resumedFrom.length > 0, 'the drop');
    for (let batch = 0; (await publisher.firstRetainedSeq()) <= 7; batch++) {
      expect(batch, 'the history was never trimmed').toBeLessThan(20);
      await publisher.publish(6 + batch * 100, 5 + (batch + 1) * 100);
    }
    proxy.release();

    const end = await list.follower.done;
    expect(end.kind).toBe('reload');
    expect(list.reloads.map(codeOf)).toEqual(['CURSOR_EXPIRED']);
    // Nothing past the hole was shown, and the list was not silently restarted from what history is left.
    expect(list.durable.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(list.resumedFrom).toEqual([list.durable.at(-1)!.id]);
    expect({ errors: list.errors, completed: list.completed }).toEqual({ errors: [], completed: false });
  });
});
