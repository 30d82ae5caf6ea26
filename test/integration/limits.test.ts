import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { SignJWT } from 'jose';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { errorCodes, graphql, startedSession, subscribe, wsClient, wsClientForTest, type GraphQLResponse } from '../support/clients.js';
import { gatewayForTest, startGateway, STORES, type Store, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS, PUBLISH, SESSION, START_SESSION } from '../support/operations.js';
import type { GatewayConfig } from '../../src/config.js';
import { GatewayCloseCode } from '../../src/ws/close-codes.js';

/** Open WebSockets as the gateway counts them (its `apg_websocket_connections` gauge). */
async function openSockets(gw: TestGateway): Promise<number> {
  const metric = await gw.app.metrics.registry.getSingleMetric('apg_websocket_connections')!.get();
  return metric.values[0]!.value;
}

type Message = Record<string, any>;

/** A graphql-transport-ws socket driven by hand, to see raw messages and close codes. */
class RawSocket {
  readonly socket: WebSocket;
  readonly messages: Message[] = [];
  readonly closed: Promise<number>;
  closeCode: number | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(wsUrl: string) {
    this.socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    onTestFinished(() => this.socket.terminate());
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Message);
      this.notify();
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
        this.notify();
      }),
    );
  }

  /** Sends `connection_init` once the socket is open. */
  static async init(wsUrl: string, payload: Record<string, unknown> = { userId: 'alice' }): Promise<RawSocket> {
    const raw = new RawSocket(wsUrl);
    await new Promise((resolve) => raw.socket.once('open', resolve));
    raw.send({ type: 'connection_init', payload });
    return raw;
  }

  send(message: object) {
    this.socket.send(JSON.stringify(message));
  }

  /** The first message matching; rejects if the socket closes before it arrives. */
  message(match: (message: Message) => boolean, what: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (found || this.closeCode !== undefined) this.waiters.delete(check);
        if (found) resolve(found);
        else if (this.closeCode !== undefined) reject(new Error(`closed with ${this.closeCode} before ${what}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  acknowledged(): Promise<Message> {
    return this.message((m) => m.type === 'connection_ack', 'connection_ack');
  }

  /** Runs a query over this socket and resolves with its `next` or `error` message. */
  query(query: string, id = randomUUID()): Promise<Message> {
    this.send({ id, type: 'subscribe', payload: { query } });
    return this.message((m) => m.id === id && (m.type === 'next' || m.type === 'error'), `the result of ${id}`);
  }

  private notify() {
    for (const waiter of this.waiters) waiter();
  }
}

/** A raw POST to the GraphQL endpoint, with a Content-Length or (`chunked`) without one. */
function post(gw: TestGateway, body: string, { chunked = false } = {}): Promise<{ status: number; body: GraphQLResponse }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }) };
    const req = request(gw.url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as GraphQLResponse }));
    });
    req.on('error', reject);
    if (!chunked) return req.end(body);
    for (let offset = 0; offset < body.length; offset += 1000) req.write(body.slice(offset, offset + 1000));
    req.end();
  });
}

const JWT_SECRET = 'limits-test-jwt-secret-of-at-least-32-characters';
const AUTH: Partial<GatewayConfig> = {
  auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' },
  publishTokenSecret: 'limits-test-publish-token-secret-of-32-chars',
};

function jwt(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('10m').sign(new TextEncoder().encode(JWT_SECRET));
}

async function bearer(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse;
}

/** A session of `user`, and its publish token. */
async function sessionWithToken(gw: TestGateway, user: string): Promise<{ sessionId: string; publishToken: string }> {
  const sessionId = `s-${randomUUID()}`;
  const started = await bearer(gw.url, await jwt(user), 'mutation ($id: ID) { startSession(sessionId: $id) { publishToken { token } } }', { id: sessionId });
  return { sessionId, publishToken: started.data!['startSession'].publishToken.token };
}

describe.each(STORES)('event payload size: MAX_EVENT_BYTES (%s)', (store) => {
  it('refuses an oversized event with PAYLOAD_TOO_LARGE on HTTP and WebSocket, and logs nothing', async () => {
    const gw = await gatewayForTest(store, { maxEventBytes: 2048 });
    const sessionId = await startedSession(gw.url);
    const event = { custom: { name: 'big', value: 'x'.repeat(4096) } };
    expect(errorCodes(await graphql(gw.url, PUBLISH, { sessionId, event }))).toEqual(['PAYLOAD_TOO_LARGE']);
    const overWs = subscribe(wsClientForTest(gw.wsUrl), PUBLISH, { sessionId, event });
    await overWs.done;
    expect(errorCodes(overWs.errors)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect((await graphql(gw.url, AGENT_EVENTS, { sessionId })).data?.['agentEvents']).toHaveLength(1);
  });
});

describe('request size: MAX_REQUEST_BYTES', () => {
  const big = JSON.stringify({ query: PUBLISH, variables: { sessionId: 'x', event: { custom: { name: 'big', value: 'x'.repeat(10_000) } } } });

  it('answers 413 REQUEST_ENTITY_TOO_LARGE to a body over the limit, with or without Content-Length', async () => {
    const gw = await gatewayForTest('memory', { maxRequestBytes: 8192, maxEventBytes: 4096 });
    for (const chunked of [false, true]) {
      const response = await post(gw, big, { chunked });
      expect(response.status).toBe(413);
      expect(errorCodes(response.body)).toEqual(['REQUEST_ENTITY_TOO_LARGE']);
    }
    const sessionId = await startedSession(gw.url);
    const small = JSON.stringify({ query: PUBLISH, variables: { sessionId, event: { progress: { percent: 5 } } } });
    for (const chunked of [false, true]) expect((await post(gw, small, { chunked })).body.errors).toBeUndefined();
  });

  it('closes a WebSocket that sends a message over the limit with 1009, which graphql-ws clients do not retry', async () => {
    const gw = await gatewayForTest('memory', { maxRequestBytes: 8192, maxEventBytes: 4096 });
    const raw = await RawSocket.init(gw.wsUrl);
    await raw.acknowledged();
    raw.send({ id: '1', type: 'subscribe', payload: JSON.parse(big) as object });
    expect(await raw.closed).toBe(1009);
  });
});

describe('batched requests: MAX_BATCH_SIZE', () => {
  const batch = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({ query: '{ __typename }' })));

  it('refuses any batch by default with BAD_REQUEST', async () => {
    const gw = await gatewayForTest('memory');
    const response = await post(gw, batch(2));
    expect(response.status).toBe(400);
    expect(errorCodes(response.body)).toEqual(['BAD_REQUEST']);
  });

  it('runs a batch up to the limit and refuses a longer one with 413 BAD_REQUEST', async () => {
    const gw = await gatewayForTest('memory', { maxBatchSize: 2 });
    const allowed = await post(gw, batch(2));
    expect(allowed.body).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    const refused = await post(gw, batch(3));
    expect(refused.status).toBe(413);
    expect(errorCodes(refused.body)).toEqual(['BAD_REQUEST']);
  });
});

describe('WebSocket connections per process: MAX_CONNECTIONS', () => {
  it('closes the connection over the limit with 4102, and admits a new one once a place is free', async () => {
    const gw = await gatewayForTest('memory', { maxConnections: 2 });
    const first = await RawSocket.init(gw.wsUrl, { userId: 'alice' });
    const second = await RawSocket.init(gw.wsUrl, { userId: 'bob' });
    await Promise.all([first.acknowledged(), second.acknowledged()]);
    const third = new RawSocket(gw.wsUrl);
    expect(await third.closed).toBe(GatewayCloseCode.TooManyConnections);
    expect(third.messages).toEqual([]);
    // The ones already in keep working.
    expect((await second.query('{ __typename }')).payload).toEqual({ data: { __typename: 'Query' } });

    first.socket.close();
    await expect.poll(() => openSockets(gw)).toBe(1);
    const fourth = await RawSocket.init(gw.wsUrl, { userId: 'carol' });
    await fourth.acknowledged();
  });
});

describe('WebSocket connections per user: MAX_CONNECTIONS_PER_USER', () => {
  it('closes a user’s connection over the limit with 4103; other users are not affected; a closed one frees a place', async () => {
    const gw = await gatewayForTest('memory', { maxConnectionsPerUser: 2 });
    const mine = [await RawSocket.init(gw.wsUrl, { userId: 'alice' }), await RawSocket.init(gw.wsUrl, { userId: 'alice' })];
    await Promise.all(mine.map((raw) => raw.acknowledged()));
    const extra = await RawSocket.init(gw.wsUrl, { userId: 'alice' });
    expect(await extra.closed).toBe(GatewayCloseCode.TooManyConnectionsForUser);
    expect(extra.messages).toEqual([]);
    await (await RawSocket.init(gw.wsUrl, { userId: 'bob' })).acknowledged();

    mine[0]!.socket.close();
    await expect.poll(() => openSockets(gw)).toBe(2);
    await (await RawSocket.init(gw.wsUrl, { userId: 'alice' })).acknowledged();
  });

  it('counts by principal: a user, an agent, a publish token’s session and anonymous callers each have their own count', async () => {
    const gw = await gatewayForTest('memory', { ...AUTH, maxConnectionsPerUser: 1 });
    const { publishToken } = await sessionWithToken(gw, 'alice');
    const credentials = {
      user: `Bearer ${await jwt('alice')}`,
      // The same `sub` as the user, but an agent: a different count.
      agent: `Bearer ${await jwt('alice', { role: 'agent' })}`,
      session: `Bearer ${publishToken}`,
      anonymous: undefined,
    };
    for (const [who, authorization] of Object.entries(credentials)) {
      const payload = authorization ? { authorization } : {};
      await (await RawSocket.init(gw.wsUrl, payload)).acknowledged();
      const second = await RawSocket.init(gw.wsUrl, payload);
      expect([who, await second.closed]).toEqual([who, GatewayCloseCode.TooManyConnectionsForUser]);
    }
  });
});

describe('connection_init timeout: CONNECTION_INIT_TIMEOUT_SECONDS', () => {
  it('closes a socket that sends no connection_init in time with 4408; an acknowledged one stays', async () => {
    const gw = await gatewayForTest('memory', { connectionInitTimeoutMs: 100 });
    const initialised = await RawSocket.init(gw.wsUrl);
    await initialised.acknowledged();
    const silent = new RawSocket(gw.wsUrl);
    expect(await silent.closed).toBe(4408);
    // Opened before the silent one, so its timer would have fired first, had it not been cleared.
    expect((await initialised.query('{ __typename }')).payload).toEqual({ data: { __typename: 'Query' } });
  });
});

describe.each(STORES)('subscriptions per connection: MAX_SUBSCRIPTIONS_PER_CONNECTION (%s)', (store) => {
  it('refuses the subscription over the limit with TOO_MANY_SUBSCRIPTIONS; the socket and the others go on', async () => {
    const gw = await gatewayForTest(store, { maxSubscriptionsPerConnection: 2 });
    const sessionId = await startedSession(gw.url);
    const c = wsClientForTest(gw.wsUrl);
    const running = [subscribe(c, AGENT_PROGRESS, { sessionId }), subscribe(c, AGENT_PROGRESS, { sessionId })];
    await Promise.all(running.map((sub) => sub.count(1)));

    const refused = subscribe(c, AGENT_PROGRESS, { sessionId });
    expect(await refused.done).toBe('error');
    expect(errorCodes(refused.errors)).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    // Queries and mutations on the same socket are not subscriptions: they still run.
    const query = subscribe(c, SESSION, { id: sessionId });
    expect(await query.done).toBe('complete');
    expect(query.events).toEqual([{ id: sessionId, status: 'ACTIVE' }]);
    expect(await subscribe(c, PUBLISH, { sessionId, event: { progress: { percent: 10 } } }).done).toBe('complete');
    await Promise.all(running.map((sub) => sub.count(2)));
    expect(running.map((sub) => sub.outcome)).toEqual([undefined, undefined]);

    // A finished subscription frees its place.
    running[0]!.unsubscribe();
    const next = subscribe(c, AGENT_PROGRESS, { sessionId });
    await next.count(2);
    expect(next.errors).toEqual([]);
  });

  it('counts per connection: another socket of the same user has its own places', async () => {
    const gw = await gatewayForTest(store, { maxSubscriptionsPerConnection: 1 });
    const sessionId = await startedSession(gw.url);
    const first = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
    const second = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
    await Promise.all([first.count(1), second.count(1)]);
  });
});

describe.each(STORES)('publishes per session: PUBLISH_RATE_PER_SESSION (%s)', (store) => {
  // One token per 100 s: nothing refills while a test runs, however slow the machine.
  const slow = { publishRatePerSession: 0.01, publishBurstPerSession: 3 };
  const progress = (sessionId: string, percent: number) => ({ sessionId, event: { progress: { percent } } });

  it('allows a burst, then answers RATE_LIMITED with retryAfterMs and publishes nothing; other sessions go on', async () => {
    const gw = await gatewayForTest(store, slow);
    const sessionId = await startedSession(gw.url);
    const other = await startedSession(gw.url);
    for (const percent of [1, 2, 3]) expect((await graphql(gw.url, PUBLISH, progress(sessionId, percent))).errors).toBeUndefined();

    const refused = await graphql(gw.url, PUBLISH, progress(sessionId, 4));
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    const retryAfterMs = refused.errors![0]!.extensions!['retryAfterMs'];
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(100_000);
    const overWs = subscribe(wsClientForTest(gw.wsUrl), PUBLISH, progress(sessionId, 5));
    await overWs.done;
    expect(errorCodes(overWs.errors)).toEqual(['RATE_LIMITED']);

    expect((await graphql(gw.url, AGENT_EVENTS, { sessionId })).data?.['agentEvents']).toHaveLength(4);
    expect((await graphql(gw.url, PUBLISH, progress(other, 1))).errors).toBeUndefined();
  });

  it('is not used up by callers who may not publish to the session', async () => {
    const gw = await gatewayForTest(store, { ...AUTH, ...slow, publishBurstPerSession: 1 });
    const mine = await sessionWithToken(gw, 'alice');
    const theirs = await sessionWithToken(gw, 'bob');
    for (let i = 0; i < 3; i++) {
      expect(errorCodes(await bearer(gw.url, theirs.publishToken, PUBLISH, progress(mine.sessionId, i)))).toEqual(['FORBIDDEN']);
    }
    expect((await bearer(gw.url, mine.publishToken, PUBLISH, progress(mine.sessionId, 1))).errors).toBeUndefined();
    expect(errorCodes(await bearer(gw.url, mine.publishToken, PUBLISH, progress(mine.sessionId, 2)))).toEqual(['RATE_LIMITED']);
  });
});

describe('query depth, aliases, tokens and directives: MAX_QUERY_DEPTH, MAX_QUERY_ALIASES, MAX_QUERY_TOKENS, MAX_QUERY_DIRECTIVES', () => {
  const limits = { maxQueryDepth: 3, maxQueryAliases: 2, maxQueryTokens: 60, maxQueryDirectives: 2 };
  const cases = [
    ['QUERY_TOO_DEEP', '{ agentEvents(sessionId: "s") { ... on Progress { ... on Progress { ... on Progress { id } } } } }'],
    ['TOO_MANY_ALIASES', '{ a: session(id: "a") { id } b: session(id: "b") { id } c: session(id: "c") { id } }'],
    ['TOO_MANY_TOKENS', `{ session(id: "a") { ${'id '.repeat(60)}} }`],
    ['TOO_MANY_DIRECTIVES', '{ session(id: "a") { id @skip(if: false) status @skip(if: false) createdAt @skip(if: false) } }'],
  ] as const;

  it.each(cases)('answers %s on HTTP and WebSocket', async (code, query) => {
    const gw = await gatewayForTest('memory', limits);
    expect(errorCodes(await graphql(gw.url, query))).toEqual([code]);
    const overWs = subscribe(wsClientForTest(gw.wsUrl), query);
    expect(await overWs.done).toBe('error');
    expect(errorCodes(overWs.errors)).toEqual([code]);
  });

  it('lets documents within the limits through, and the defaults take GraphiQL’s introspection query', async () => {
    const gw = await gatewayForTest('memory', limits);
    const within = '{ a: session(id: "a") { id @skip(if: false) } b: agentEvents(sessionId: "b") { ... on Progress { id } } }';
    expect(errorCodes(await graphql(gw.url, within))).toEqual(['SESSION_NOT_FOUND']);
    const defaults = await gatewayForTest('memory');
    expect((await graphql(defaults.url, getIntrospectionQuery({ descriptions: true, oneOf: true }))).errors).toBeUndefined();
  });
});

describe('introspection and GraphiQL: INTROSPECTION, GRAPHIQL', () => {
  const html = (gw: TestGateway) => fetch(gw.url, { headers: { accept: 'text/html' } });

  it('are on by default (development)', async () => {
    const gw = await gatewayForTest('memory');
    expect((await graphql(gw.url, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const page = await html(gw);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Agent Progress Gateway');
  });

  it('switched off: __schema and __type get INTROSPECTION_DISABLED on HTTP and WebSocket, __typename works, no GraphiQL page', async () => {
    const gw = await gatewayForTest('memory', { introspection: false, graphiql: false });
    expect(errorCodes(await graphql(gw.url, '{ __schema { types { name } } }'))).toEqual(['INTROSPECTION_DISABLED']);
    expect(errorCodes(await graphql(gw.url, '{ __type(name: "Session") { name } }'))).toEqual(['INTROSPECTION_DISABLED']);
    const overWs = subscribe(wsClientForTest(gw.wsUrl), '{ __schema { queryType { name } } }');
    expect(await overWs.done).toBe('error');
    expect(errorCodes(overWs.errors)).toEqual(['INTROSPECTION_DISABLED']);
    expect((await graphql(gw.url, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    const page = await html(gw);
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(page.status).toBe(406);
  });

  it('switched off, validation errors give no "Did you mean" hints that would leak field names; on, they do', async () => {
    const typo = '{ sesion(id: "x") { id } }';
    const open = await gatewayForTest('memory');
    const hinted = await graphql(open.url, typo);
    expect(errorCodes(hinted)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(hinted.errors?.[0]?.message).toContain('Did you mean "session"?');
    const closed = await gatewayForTest('memory', { introspection: false });
    const silent = await graphql(closed.url, typo);
    expect(errorCodes(silent)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(silent.errors?.[0]?.message).not.toContain('session"');
  });
});
