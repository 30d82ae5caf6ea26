/**
 * Who may do what, enforced on every transport (issue 3, items 1 and 2; DESIGN.md "Identity conventions" and
 * "Guarantees"), against a gateway on real Redis with `JWT_SECRET` (HS256) and `PUBLISH_TOKEN_SECRET` set.
 *
 * Every cell below is one test. It starts a fresh session S owned by alice holding two events (SESSION_STARTED
 * and an agent's PROGRESS), calls the operation on S as the role over the transport, and checks the outcome.
 * An allowed call must have exactly its effect; every other call must change nothing: S's record and history, a
 * second session S2 of alice's and the job queue are compared before and after.
 *
 * Roles (the columns):
 *   owner       alice's JWT (`sub: alice`)                  other user  bob's JWT
 *   agent       a JWT with `role: agent`                    expired     alice's JWT with `exp` a minute ago
 *   S's token   S's `Session.publishToken`                  garbage     `Bearer this-is-not-a-jwt`
 *   S2's token  the publishToken of alice's other session   none        no credentials at all
 *
 * Transports (the `via` column): `http` is a POST with `Accept: application/graphql-response+json, application/json`
 * and `Authorization: Bearer`. `ws` is graphql-ws on a fresh socket, run twice: with the `authorization`
 * connection parameter and with the `apg_token` cookie on the upgrade request. `sse` is Yoga's
 * `Accept: text/event-stream`, run three times: token in the Authorization header (POST), in the `token` query
 * parameter and in the `apg_token` cookie (both GET, as EventSource does, except mutations, which must be POST).
 *
 * Outcomes (the cells):
 *   ok                answered with data, and the operation had its effect
 *   null              answered `null`: the session looks absent (someone else's is indistinguishable from none)
 *   CODE[:REASON]     refused with a GraphQL error: extensions.code (and extensions.reason)
 *   close:4403        WebSocket closed at connection_init: credentials refused (graphql-ws Forbidden)
 *   close:4101        WebSocket closed at connection_init: the token has expired (refresh it and reconnect)
 *   NOT_ACCEPTABLE    HTTP 406: a subscription cannot be one JSON response (use SSE or WebSocket)
 */
import { createHash, randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { exportJWK, exportSPKI, generateKeyPair, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { AuthConfig, GatewayConfig } from '../../src/config.js';
import type { SessionEvent } from '../../src/events/types.js';
import { GatewayCloseCode } from '../../src/ws/close-codes.js';
import {
  expectNoTokenInLogs,
  hs256Key,
  JWT_SECRET,
  mintJwt,
  outcomeOf,
  overHttp,
  overSse,
  overWs,
  PUBLISH_TOKEN_SECRET,
  roots,
  serveJwks,
  type MintOptions,
  type Outcome,
  within,
} from '../support/auth.js';
import { subscribe, subscribeSse } from '../support/clients.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS, END_SESSION, PUBLISH, SESSION, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';

// prettier-ignore
const MATRIX = `
  operation         | via  | owner     | other user        | agent     | S's token | S2's token | expired                       | garbage                       | none
  startSession      | http | ok        | SESSION_ID_TAKEN  | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  startSession      | ws   | ok        | SESSION_ID_TAKEN  | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  startSession      | sse  | ok        | SESSION_ID_TAKEN  | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  session           | http | ok        | null              | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  session           | ws   | ok        | null              | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  session           | sse  | ok        | null              | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  agentEvents       | http | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  agentEvents       | ws   | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  agentEvents       | sse  | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  agentProgress     | http | NOT_ACCEPTABLE | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  agentProgress     | ws   | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  agentProgress     | sse  | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  submitRequest     | http | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  submitRequest     | ws   | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  submitRequest     | sse  | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  publishAgentEvent | http | FORBIDDEN | FORBIDDEN         | ok        | ok        | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  publishAgentEvent | ws   | FORBIDDEN | FORBIDDEN         | ok        | ok        | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  publishAgentEvent | sse  | FORBIDDEN | FORBIDDEN         | ok        | ok        | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  endSession        | http | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
  endSession        | ws   | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | close:4101                    | close:4403                    | UNAUTHENTICATED
  endSession        | sse  | ok        | SESSION_NOT_FOUND | FORBIDDEN | FORBIDDEN | FORBIDDEN  | UNAUTHENTICATED:TOKEN_EXPIRED | UNAUTHENTICATED:INVALID_TOKEN | UNAUTHENTICATED
`;

const OPERATIONS = ['startSession', 'session', 'agentEvents', 'agentProgress', 'submitRequest', 'publishAgentEvent', 'endSession'] as const;
const ROLES = ['owner', 'other user', 'agent', "S's token", "S2's token", 'expired', 'garbage', 'none'] as const;
const VIAS = ['http', 'ws', 'sse'] as const;
type Operation = (typeof OPERATIONS)[number];
type Role = (typeof ROLES)[number];
type Via = (typeof VIAS)[number];

interface Cell {
  operation: Operation;
  via: Via;
  role: Role;
  expected: string;
}

/** The table above, one entry per cell; throws on a malformed table so a typo cannot drop a cell. */
function parseMatrix(text: string): Cell[] {
  const [header, ...rows] = text
    .trim()
    .split('\n')
    .map((line) => line.split('|').map((part) => part.trim()));
  const roles = header!.slice(2);
  if (JSON.stringify(roles) !== JSON.stringify(ROLES)) throw new Error(`matrix columns ${JSON.stringify(roles)} are not ${JSON.stringify(ROLES)}`);
  return rows.flatMap(([operation, via, ...outcomes]) => {
    if (!OPERATIONS.includes(operation as Operation) || !VIAS.includes(via as Via) || outcomes.length !== ROLES.length || outcomes.some((o) => !o)) {
      throw new Error(`malformed matrix row: ${operation} | ${via} | ${outcomes.join(' | ')}`);
    }
    return ROLES.map((role, i) => ({ operation: operation as Operation, via: via as Via, role, expected: outcomes[i]! }));
  });
}

const CELLS = parseMatrix(MATRIX);

/** What each operation sends; every one names the cell's session S. */
const CALLS: Record<Operation, { document: string; variables: (sessionId: string) => Record<string, unknown>; kind: 'query' | 'mutation' | 'subscription' }> = {
  startSession: { document: START_SESSION, variables: (sessionId) => ({ sessionId }), kind: 'mutation' },
  session: { document: SESSION, variables: (id) => ({ id }), kind: 'query' },
  agentEvents: { document: AGENT_EVENTS, variables: (sessionId) => ({ sessionId }), kind: 'query' },
  agentProgress: { document: AGENT_PROGRESS, variables: (sessionId) => ({ sessionId }), kind: 'subscription' },
  submitRequest: { document: SUBMIT_REQUEST, variables: (sessionId) => ({ sessionId, input: { prompt: 'matrix' } }), kind: 'mutation' },
  publishAgentEvent: {
    document: PUBLISH,
    variables: (sessionId) => ({ sessionId, agent: 'matrix', event: { progress: { percent: 75, message: 'matrix' } } }),
    kind: 'mutation',
  },
  endSession: { document: END_SESSION, variables: (sessionId) => ({ sessionId }), kind: 'mutation' },
};

/** Events every fresh session holds: a subscription that is allowed reads these two, then the test stops it. */
const HISTORY_LENGTH = 2;

type Call = (gw: TestGateway, operation: Operation, sessionId: string, token: string | undefined) => Promise<Outcome>;

function invoke(operation: Operation, sessionId: string) {
  const { document, variables, kind } = CALLS[operation];
  return { document, variables: variables(sessionId), kind, stopAfter: kind === 'subscription' ? HISTORY_LENGTH : undefined };
}

const sse =
  (carrier: 'header' | 'query' | 'cookie'): Call =>
  (gw, operation, sessionId, token) => {
    const { document, variables, kind, stopAfter } = invoke(operation, sessionId);
    const method = carrier === 'header' || kind === 'mutation' ? 'POST' : 'GET';
    return overSse(gw.url, document, variables, token, { carrier, method, ...(stopAfter ? { stopAfter } : {}) });
  };

const ws =
  (carrier: 'param' | 'cookie'): Call =>
  (gw, operation, sessionId, token) => {
    const { document, variables, stopAfter } = invoke(operation, sessionId);
    return overWs(gw.wsUrl, document, variables, token, { carrier, ...(stopAfter ? { stopAfter } : {}) });
  };

const TRANSPORTS: { name: string; via: Via; call: Call }[] = [
  {
    name: 'HTTP POST (Authorization: Bearer)',
    via: 'http',
    call: (gw, operation, sessionId, token) => {
      const { document, variables } = invoke(operation, sessionId);
      return overHttp(gw.url, document, variables, token);
    },
  },
  { name: 'WebSocket (authorization connection parameter)', via: 'ws', call: ws('param') },
  { name: 'WebSocket (apg_token cookie on the upgrade)', via: 'ws', call: ws('cookie') },
  { name: 'SSE (Authorization: Bearer, POST)', via: 'sse', call: sse('header') },
  { name: 'SSE (token query parameter, GET as EventSource)', via: 'sse', call: sse('query') },
  { name: 'SSE (apg_token cookie, GET as EventSource)', via: 'sse', call: sse('cookie') },
];

const START_WITH_TOKEN = /* GraphQL */ `
  mutation ($sessionId: ID) { startSession(sessionId: $sessionId) { id publishToken { token expiresAt } } }
`;

interface State {
  session: Awaited<ReturnType<TestGateway['app']['eventLog']['getSession']>>;
  history: SessionEvent[];
}

interface AllowedCheck {
  outcome: Outcome;
  sessionId: string;
  before: State;
  after: State;
  job: Record<string, unknown> | null;
}

/** What an allowed call must return and do; anything beyond its effect would be a change it should not make. */
const ALLOWED: Record<Operation, (check: AllowedCheck) => void> = {
  startSession({ outcome, sessionId, before, after, job }) {
    // Starting an id you already own returns that session unchanged.
    expect(roots(outcome)).toEqual([{ id: sessionId, status: 'ACTIVE', createdAt: expect.any(String), updatedAt: expect.any(String), expiresAt: expect.any(String) }]);
    expect(after).toEqual(before);
    expect(job).toBeNull();
  },
  session({ outcome, sessionId, before, after, job }) {
    expect(roots(outcome)).toEqual([{ id: sessionId, status: 'ACTIVE' }]);
    expect(after).toEqual(before);
    expect(job).toBeNull();
  },
  agentEvents({ outcome, before, after, job }) {
    expect(roots<{ seq: number; type: string }[]>(outcome)[0]?.map(({ seq, type }) => [seq, type])).toEqual([
      [1, 'SESSION_STARTED'],
      [2, 'PROGRESS'],
    ]);
    expect(after).toEqual(before);
    expect(job).toBeNull();
  },
  agentProgress({ outcome, sessionId, before, after, job }) {
    expect(roots<{ seq: number; type: string; sessionId: string }>(outcome).map(({ seq, type, sessionId: s }) => [seq, type, s])).toEqual([
      [1, 'SESSION_STARTED', sessionId],
      [2, 'PROGRESS', sessionId],
    ]);
    expect(after).toEqual(before);
    expect(job).toBeNull();
  },
  submitRequest({ outcome, sessionId, before, after, job }) {
    const [request] = roots<{ id: string; sessionId: string }>(outcome);
    expect(request).toMatchObject({ sessionId, input: { prompt: 'matrix' } });
    expect(after.history).toEqual([
      ...before.history,
      expect.objectContaining({ seq: 3, event: expect.objectContaining({ type: 'REQUEST_QUEUED', requestId: request!.id }) }),
    ]);
    expect(after.session).toMatchObject({ sessionId, userId: 'alice', createdAt: before.session!.createdAt });
    expect(job).toMatchObject({ requestId: request!.id, sessionId, userId: 'alice', input: { prompt: 'matrix' }, publishToken: expect.any(String) });
  },
  publishAgentEvent({ outcome, sessionId, before, after, job }) {
    expect(roots(outcome)).toEqual([expect.objectContaining({ seq: 3, type: 'PROGRESS', agent: 'matrix', ephemeral: false })]);
    expect(after.history).toEqual([
      ...before.history,
      expect.objectContaining({ sessionId, seq: 3, event: expect.objectContaining({ type: 'PROGRESS', percent: 75, agent: 'matrix' }) }),
    ]);
    expect(after.session).toMatchObject({ sessionId, userId: 'alice', createdAt: before.session!.createdAt });
    expect(job).toBeNull();
  },
  endSession({ outcome, sessionId, after, job }) {
    expect(roots(outcome)).toEqual([{ id: sessionId, status: 'ENDED' }]);
    expect(after).toEqual({ session: null, history: [] });
    expect(job).toBeNull();
  },
};

/** Every token some test sent or received, so the log check can look for each of them. */
const tokensSeen = new Set<string>();

/** Not a JWT at all. */
const GARBAGE = 'this-is-not-a-jwt';

describe('auth matrix: every operation × role × transport (Redis, JWT_SECRET)', () => {
  const key = hs256Key(JWT_SECRET);
  let gw: TestGateway;
  let tokens: Record<'owner' | 'otherUser' | 'agent' | 'expired', string>;
  /** Alice's second session: its publish token is the "S2's token" column, and no cell may touch it. */
  let s2: { sessionId: string; token: string; state: State };

  const stateOf = async (sessionId: string): Promise<State> => ({
    session: await gw.app.eventLog.getSession(sessionId),
    history: (await gw.app.eventLog.read({ userId: 'alice', sessionId }, 0, 1_000)).events,
  });

  /** A session of alice's holding SESSION_STARTED and one agent PROGRESS, and its publish token. */
  async function freshSession(): Promise<{ sessionId: string; token: string }> {
    const sessionId = `matrix-${randomUUID()}`;
    const started = await overHttp(gw.url, START_WITH_TOKEN, { sessionId }, tokens.owner);
    expect(outcomeOf(started), JSON.stringify(started)).toBe('ok');
    const token = roots<{ publishToken: { token: string } }>(started)[0]!.publishToken.token;
    const published = await overHttp(gw.url, PUBLISH, { sessionId, agent: 'setup', event: { progress: { percent: 50 } } }, tokens.agent);
    expect(outcomeOf(published), JSON.stringify(published)).toBe('ok');
    tokensSeen.add(token);
    return { sessionId, token };
  }

  beforeAll(async () => {
    gw = await startGateway({
      store: 'redis',
      redisUrl: inject('redisUrl'),
      config: {
        auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' },
        publishTokenSecret: PUBLISH_TOKEN_SECRET,
        // A queue of this gateway's own, so "nothing was queued" cannot be disturbed by other test files.
        requestQueueKey: `queue:auth-matrix-${randomUUID()}`,
      },
    });
    tokens = {
      owner: await mintJwt(key, { sub: 'alice' }),
      otherUser: await mintJwt(key, { sub: 'bob' }),
      agent: await mintJwt(key, { sub: 'planner-agent', claims: { role: 'agent' } }),
      expired: await mintJwt(key, { sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }),
    };
    for (const token of [...Object.values(tokens), GARBAGE]) tokensSeen.add(token);
    const { sessionId, token } = await freshSession();
    s2 = { sessionId, token, state: await stateOf(sessionId) };
  });

  afterAll(() => gw?.stop());

  it('the table has one outcome for every operation × role × transport', () => {
    expect(CELLS).toHaveLength(OPERATIONS.length * ROLES.length * VIAS.length);
    const keys = new Set(CELLS.map(({ operation, via, role }) => `${operation}|${via}|${role}`));
    expect(keys.size).toBe(CELLS.length);
  });

  for (const transport of TRANSPORTS) {
    describe(transport.name, () => {
      for (const { operation, role, expected } of CELLS.filter((cell) => cell.via === transport.via)) {
        it(`${operation} as ${role} → ${expected}`, async () => {
          // A job left by a cell that failed before taking it must not fail this one.
          while (await gw.app.eventLog.takeJob());
          const session = await freshSession();
          const token: string | undefined = {
            owner: tokens.owner,
            'other user': tokens.otherUser,
            agent: tokens.agent,
            "S's token": session.token,
            "S2's token": s2.token,
            expired: tokens.expired,
            garbage: GARBAGE,
            none: undefined,
          }[role];
          const before = await stateOf(session.sessionId);

          const outcome = await transport.call(gw, operation, session.sessionId, token);

          expect(outcomeOf(outcome), JSON.stringify(outcome)).toBe(expected);
          const after = await stateOf(session.sessionId);
          const job = await gw.app.eventLog.takeJob();
          if (typeof job?.['publishToken'] === 'string') tokensSeen.add(job['publishToken']);
          if (expected === 'ok') {
            ALLOWED[operation]({ outcome, sessionId: session.sessionId, before, after, job });
          } else {
            expect(after, 'a refused call changed the session').toEqual(before);
            expect(job, 'a refused call queued a job').toBeNull();
          }
          expect(await stateOf(s2.sessionId), 'a call on S changed S2').toEqual(s2.state);
        });
      }
    });
  }

  it('a sub outside the safe alphabet is the user sub_<sha256 base64url>, isolated from other such subs', async () => {
    const email = await mintJwt(key, { sub: 'alice@example.com' });
    const lookalike = await mintJwt(key, { sub: 'alice@example.org' });
    tokensSeen.add(email).add(lookalike);
    const sessionId = `matrix-${randomUUID()}`;
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, { sessionId }, email))).toBe('ok');
    expect(outcomeOf(await overHttp(gw.url, SUBMIT_REQUEST, { sessionId, input: {} }, email))).toBe('ok');
    const userId = `sub_${createHash('sha256').update('alice@example.com').digest('base64url')}`;
    expect(await gw.app.eventLog.getSession(sessionId)).toMatchObject({ userId });
    expect(await gw.app.eventLog.takeJob()).toMatchObject({ sessionId, userId });
    expect(outcomeOf(await overHttp(gw.url, AGENT_EVENTS, { sessionId }, lookalike))).toBe('SESSION_NOT_FOUND');
    expect(outcomeOf(await overWs(gw.wsUrl, AGENT_EVENTS, { sessionId }, email, { carrier: 'param' }))).toBe('ok');
  });

  it('an expired, forged or stale publish token is refused, changing nothing', async () => {
    const session = await freshSession();
    const ended = await freshSession();
    expect(outcomeOf(await overHttp(gw.url, END_SESSION, { sessionId: ended.sessionId }, tokens.owner))).toBe('ok');
    const before = await stateOf(session.sessionId);
    const now = Math.floor(Date.now() / 1000);
    const publishKey = hs256Key(PUBLISH_TOKEN_SECRET);
    const asPublishToken = (signingKey: Uint8Array, exp: number, claims: Record<string, unknown> = { sid: session.sessionId, uid: 'alice' }) =>
      mintJwt(signingKey, { sub: `session:${session.sessionId}`, claims, issuer: 'agent-progress-gateway', audience: 'agent-progress-gateway:publish', exp });
    const cases: { what: string; token: string; target: string; http: string; ws: string }[] = [
      { what: 'expired', token: await asPublishToken(publishKey, now - 60), target: session.sessionId, http: 'UNAUTHENTICATED:TOKEN_EXPIRED', ws: 'close:4101' },
      { what: 'signed with JWT_SECRET', token: await asPublishToken(key, now + 600), target: session.sessionId, http: 'UNAUTHENTICATED:INVALID_TOKEN', ws: 'close:4403' },
      { what: 'signed with another secret', token: await asPublishToken(hs256Key('x'.repeat(48)), now + 600), target: session.sessionId, http: 'UNAUTHENTICATED:INVALID_TOKEN', ws: 'close:4403' },
      { what: 'without sid', token: await asPublishToken(publishKey, now + 600, { uid: 'alice' }), target: session.sessionId, http: 'UNAUTHENTICATED:INVALID_TOKEN', ws: 'close:4403' },
      { what: 'naming bob as the owner', token: await asPublishToken(publishKey, now + 600, { sid: session.sessionId, uid: 'bob' }), target: session.sessionId, http: 'SESSION_NOT_FOUND', ws: 'SESSION_NOT_FOUND' },
      { what: 'of a session that has ended', token: ended.token, target: ended.sessionId, http: 'SESSION_NOT_FOUND', ws: 'SESSION_NOT_FOUND' },
    ];
    for (const { what, token, target, http, ws: overSocket } of cases) {
      tokensSeen.add(token);
      const variables = { sessionId: target, event: { progress: { percent: 1 } } };
      expect(outcomeOf(await overHttp(gw.url, PUBLISH, variables, token)), what).toBe(http);
      expect(outcomeOf(await overWs(gw.wsUrl, PUBLISH, variables, token, { carrier: 'param' })), `${what} (WebSocket)`).toBe(overSocket);
    }
    expect(await stateOf(session.sessionId)).toEqual(before);
    expect(await stateOf(ended.sessionId)).toEqual({ session: null, history: [] });
  });

  it('no log line contains a token (every token the matrix sent or received, after all of the above)', () => {
    expect(tokensSeen.size).toBeGreaterThan(CELLS.length / ROLES.length);
    expect(gw.logs.length).toBeGreaterThan(0);
    expectNoTokenInLogs(gw, tokensSeen);
  });
});


/** A gateway on the run's Redis with `auth`, stopped after the test. */
async function authGateway(auth: AuthConfig, config: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    store: 'redis',
    redisUrl: inject('redisUrl'),
    config: { auth, publishTokenSecret: PUBLISH_TOKEN_SECRET, requestQueueKey: `queue:auth-matrix-${randomUUID()}`, ...config },
  });
  onTestFinished(() => gw.stop());
  return gw;
}

/** A graphql-ws client that stays connected (not lazy), as a browser tab does, with a Bearer token. */
function connectedClient(gw: TestGateway, token: string) {
  const client = createClient({
    url: gw.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    // The close is awaited through the `closed` event below; graphql-ws would also print it to the console.
    onNonLazyError: () => {},
  });
  onTestFinished(() => client.dispose());
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    client.on('closed', (event) => {
      const { code, reason } = event as CloseEvent;
      resolve({ code, reason, at: Date.now() });
    }),
  );
  return { client, closed };
}

/**
 * The refusals every key source must make: each case is a credential for alice that must not let her in. Checked
 * on HTTP (UNAUTHENTICATED with its reason) and WebSocket (4403), with a startSession that must create nothing.
 */
async function expectRefused(gw: TestGateway, cases: [string, string, string][]) {
  for (const [what, token, reason] of cases) {
    const sessionId = `refused-${randomUUID()}`;
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, { sessionId }, token)), what).toBe(`UNAUTHENTICATED:${reason}`);
    expect(outcomeOf(await overWs(gw.wsUrl, START_SESSION, { sessionId }, token, { carrier: 'param' })), `${what} (WebSocket)`).toBe(reason === 'TOKEN_EXPIRED' ? 'close:4101' : 'close:4403');
    expect(outcomeOf(await overSse(gw.url, START_SESSION, { sessionId }, token, { carrier: 'query', method: 'POST' })), `${what} (SSE)`).toBe(
      `UNAUTHENTICATED:${reason}`,
    );
    expect(await gw.app.eventLog.getSession(sessionId), `${what} created a session`).toBeNull();
  }
}

/** Alice starts a session with `token`, reads it over all three transports, and an agent publishes to it. */
async function expectAccepted(gw: TestGateway, user: string, agent: string) {
  const sessionId = `accepted-${randomUUID()}`;
  const started = await overHttp(gw.url, START_WITH_TOKEN, { sessionId }, user);
  expect(outcomeOf(started), JSON.stringify(started)).toBe('ok');
  expect(await gw.app.eventLog.getSession(sessionId)).toMatchObject({ userId: 'alice' });
  expect(outcomeOf(await overHttp(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 10 } } }, agent))).toBe('ok');
  // The gateway's own publish tokens work whatever the user key source is.
  const publishToken = roots<{ publishToken: { token: string } }>(started)[0]!.publishToken.token;
  expect(outcomeOf(await overHttp(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 20 } } }, publishToken))).toBe('ok');
  const ws = await overWs(gw.wsUrl, AGENT_PROGRESS, { sessionId }, user, { carrier: 'param', stopAfter: 3 });
  expect(roots<{ type: string }>(ws).map((event) => event.type)).toEqual(['SESSION_STARTED', 'PROGRESS', 'PROGRESS']);
  const sse = await overSse(gw.url, AGENT_EVENTS, { sessionId }, user, { carrier: 'header', method: 'POST' });
  expect(roots<{ seq: number }[]>(sse)[0]?.map((event) => event.seq)).toEqual([1, 2, 3]);
  // The agent credential publishes, and reads nothing.
  expect(outcomeOf(await overHttp(gw.url, AGENT_EVENTS, { sessionId }, agent))).toBe('FORBIDDEN');
  return { sessionId, publishToken };
}

describe('JWT_PUBLIC_KEY (ES256 PEM) with JWT_ISSUER and JWT_AUDIENCE enforced', () => {
  it('accepts tokens signed by the key with the right iss and aud, and refuses everything else', async () => {
    const issuer = 'https://idp.test/';
    const audience = 'agent-progress-gateway';
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    const gw = await authGateway({ publicKey: pem, issuer, audience, roleClaim: 'role', agentRole: 'agent' });
    const now = Math.floor(Date.now() / 1000);
    const sign = (options: MintOptions = {}, key: Parameters<typeof mintJwt>[0] = privateKey) =>
      mintJwt(key, { alg: 'ES256', sub: 'alice', issuer, audience, ...options });

    const user = await sign();
    const agent = await sign({ sub: 'indexer', claims: { role: 'agent' } });
    const { publishToken } = await expectAccepted(gw, user, agent);
    // An `aud` array that includes the configured audience is accepted too (RFC 7519 §4.1.3).
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, {}, await sign({ audience: ['other-api', audience] })))).toBe('ok');

    const otherKey = await generateKeyPair('ES256');
    const cases: [string, string, string][] = [
      ['wrong issuer', await sign({ issuer: 'https://evil.test/' }), 'INVALID_TOKEN'],
      ['no issuer', await mintJwt(privateKey, { alg: 'ES256', sub: 'alice', audience }), 'INVALID_TOKEN'],
      ['wrong audience', await sign({ audience: 'another-api' }), 'INVALID_TOKEN'],
      ['no audience', await mintJwt(privateKey, { alg: 'ES256', sub: 'alice', issuer }), 'INVALID_TOKEN'],
      ['signed by another key', await sign({}, otherKey.privateKey), 'INVALID_TOKEN'],
      ['HS256 with the PEM as the secret (algorithm confusion)', await sign({ alg: 'HS256' }, hs256Key(pem)), 'INVALID_TOKEN'],
      ['alg none', new UnsecuredJWT({}).setSubject('alice').setIssuer(issuer).setAudience(audience).setExpirationTime('1h').encode(), 'INVALID_TOKEN'],
      ['no sub', await mintJwt(privateKey, { alg: 'ES256', issuer, audience }), 'INVALID_TOKEN'],
      ['expired', await sign({ exp: now - 60 }), 'TOKEN_EXPIRED'],
    ];
    await expectRefused(gw, cases);
    expectNoTokenInLogs(gw, [user, agent, publishToken, ...cases.map(([, token]) => token)]);
  });
});

describe('JWT_JWKS_URL (RS256, a JWK Set served locally) with JWT_ISSUER, JWT_AUDIENCE and a custom role claim', () => {
  it('verifies against the fetched key set, honours JWT_ROLE_CLAIM/JWT_AGENT_ROLE and refuses everything else', async () => {
    const issuer = 'https://login.example.test';
    const audience = 'progress';
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwks = await serveJwks([{ ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }]);
    onTestFinished(() => jwks.close());
    const gw = await authGateway({ jwksUrl: jwks.url, issuer, audience, roleClaim: 'kind', agentRole: 'robot' });
    const sign = (options: MintOptions = {}, key: Parameters<typeof mintJwt>[0] = privateKey) =>
      mintJwt(key, { alg: 'RS256', kid: 'key-1', sub: 'alice', issuer, audience, ...options });

    const user = await sign();
    const agent = await sign({ sub: 'robot-1', claims: { kind: 'robot' } });
    const { sessionId, publishToken } = await expectAccepted(gw, user, agent);
    expect(jwks.hits).toBeGreaterThanOrEqual(1);
    // With JWT_ROLE_CLAIM=kind, `role: agent` is just a claim: its bearer is a user (carol), who may not publish.
    const notAnAgent = await sign({ sub: 'carol', claims: { role: 'agent' } });
    expect(outcomeOf(await overHttp(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 1 } } }, notAnAgent))).toBe('FORBIDDEN');
    expect(outcomeOf(await overHttp(gw.url, AGENT_EVENTS, { sessionId }, notAnAgent))).toBe('SESSION_NOT_FOUND');

    const otherKey = await generateKeyPair('RS256');
    const cases: [string, string, string][] = [
      ['wrong issuer', await sign({ issuer: 'https://login.evil.test' }), 'INVALID_TOKEN'],
      ['wrong audience', await sign({ audience: 'billing' }), 'INVALID_TOKEN'],
      ['a kid the set does not have', await sign({ kid: 'key-2' }, otherKey.privateKey), 'INVALID_TOKEN'],
      ['the right kid, signed by another key', await sign({}, otherKey.privateKey), 'INVALID_TOKEN'],
      ['HS256 with JWT-looking secret', await sign({ alg: 'HS256' }, hs256Key(JWT_SECRET)), 'INVALID_TOKEN'],
      ['expired', await sign({ exp: Math.floor(Date.now() / 1000) - 60 }), 'TOKEN_EXPIRED'],
    ];
    await expectRefused(gw, cases);
    expect(await gw.app.eventLog.read({ userId: 'alice', sessionId }, 0, 100)).toMatchObject({ lastSeq: 3 });
    expectNoTokenInLogs(gw, [user, agent, notAnAgent, publishToken, ...cases.map(([, token]) => token)]);
  });
});

describe('a WebSocket whose token expires while open', () => {
  it('is closed with 4101 (GatewayCloseCode.TokenExpired) when the token expires, for a user and a publish token', async () => {
    // Publish tokens of this gateway live 2 s (their expiry is rounded down to the second: 1–2 s from now).
    const gw = await authGateway({ secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' }, { publishTokenTtlMs: 2_000 });
    const key = hs256Key(JWT_SECRET);
    const longLived = await mintJwt(key, { sub: 'alice' });
    const sessionId = `expiring-${randomUUID()}`;
    const started = await overHttp(gw.url, START_WITH_TOKEN, { sessionId }, longLived);
    const publishToken = roots<{ publishToken: { token: string; expiresAt: string } }>(started)[0]!.publishToken;
    // exp is whole seconds: this token expires 1–2 s from now.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await mintJwt(key, { sub: 'alice', exp });

    const user = connectedClient(gw, shortLived);
    const progress = subscribe(user.client, AGENT_PROGRESS, { sessionId });
    await progress.count(1);
    const agent = connectedClient(gw, publishToken.token);
    const published = await new Promise<unknown>((resolve, reject) => {
      const variables = { sessionId, event: { progress: { percent: 40 } } };
      agent.client.subscribe({ query: PUBLISH, variables }, { next: resolve, error: reject, complete() {} });
    });
    expect(published).toMatchObject({ data: { publishAgentEvent: { seq: 2 } } });
    await progress.count(2);

    // Both tokens expire within 2 s of their minting; the guard only turns a socket that stays open into a clear failure.
    const [userClosed, agentClosed] = await within(Promise.all([user.closed, agent.closed]), 10_000, 'both sockets closed with 4101');
    expect(userClosed).toMatchObject({ code: GatewayCloseCode.TokenExpired, reason: 'Token expired' });
    expect(agentClosed).toMatchObject({ code: 4101, reason: 'Token expired' });
    // Not before the token expired (a timer may fire a millisecond early), and the subscription ended with it.
    expect(userClosed.at).toBeGreaterThanOrEqual(exp * 1000 - 5);
    expect(agentClosed.at).toBeGreaterThanOrEqual(Date.parse(publishToken.expiresAt) - 5);
    // The subscription ends at expiry either way: by the socket's close, or — if its own TOKEN_EXPIRED error got
    // out first — completed with that error.
    if ((await progress.done) === 'complete') {
      expect(progress.errors.map((error) => error.extensions?.['reason'])).toEqual(['TOKEN_EXPIRED']);
    }
    expect(progress.events.map((event) => event['seq'])).toEqual([1, 2]);
    // Reconnecting with the expired token is told to refresh it (4101), not refused for good (4403).
    expect(outcomeOf(await overWs(gw.wsUrl, SESSION, { id: sessionId }, shortLived, { carrier: 'param' }))).toBe('close:4101');
    expect(outcomeOf(await overHttp(gw.url, SESSION, { id: sessionId }, shortLived))).toBe('UNAUTHENTICATED:TOKEN_EXPIRED');
    expectNoTokenInLogs(gw, [longLived, shortLived, publishToken.token]);
  });
});

describe('an SSE subscription whose token expires', () => {
  it('ends with UNAUTHENTICATED (TOKEN_EXPIRED) once the token expires, after delivering what came before', async () => {
    const gw = await authGateway({ secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' });
    const key = hs256Key(JWT_SECRET);
    const sessionId = `sse-expiring-${randomUUID()}`;
    expect(outcomeOf(await overHttp(gw.url, START_WITH_TOKEN, { sessionId }, await mintJwt(key, { sub: 'alice' })))).toBe('ok');
    // exp is whole seconds: this token expires 1–2 s from now.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await mintJwt(key, { sub: 'alice', exp });
    const sse = subscribeSse(gw.url, AGENT_PROGRESS, { sessionId }, 'alice', { authorization: `Bearer ${shortLived}` });
    onTestFinished(() => sse.unsubscribe());
    await sse.count(1);

    await within(sse.until((c) => c.errors.length > 0, 'the expiry error'), 10_000, 'the SSE stream ended');
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 5);
    expect(sse.errors.map((error) => [error.extensions?.['code'], error.extensions?.['reason']])).toEqual([['UNAUTHENTICATED', 'TOKEN_EXPIRED']]);
    expect(await sse.done).toBe('complete');
    expect(sse.events.map((event) => event['seq'])).toEqual([1]);
  });
});

describe('a worker with the queued job’s publishToken', () => {
  it('takes the job and reports progress to that session only, which its owner follows live', async () => {
    const gw = await authGateway({ secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' });
    const key = hs256Key(JWT_SECRET);
    const alice = await mintJwt(key, { sub: 'alice' });
    const sessionId = `worked-${randomUUID()}`;
    const elsewhere = `elsewhere-${randomUUID()}`;
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, { sessionId }, alice))).toBe('ok');
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, { sessionId: elsewhere }, alice))).toBe('ok');
    const tab = connectedClient(gw, alice);
    const all = subscribe(tab.client, AGENT_PROGRESS, { sessionId });
    await all.count(1);

    const input = { prompt: 'Summarise the quarter' };
    const submitted = await overHttp(gw.url, SUBMIT_REQUEST, { sessionId, input }, alice);
    const requestId = roots<{ id: string }>(submitted)[0]!.id;
    const request = subscribe(tab.client, AGENT_PROGRESS, { sessionId, requestId });

    const job = await gw.app.eventLog.takeJob();
    expect(job).toMatchObject({ requestId, sessionId, userId: 'alice', input, publishToken: expect.any(String), publishTokenExpiresAt: expect.any(String) });
    expect(Date.parse(job!['publishTokenExpiresAt'] as string)).toBeGreaterThan(Date.now());
    const workerToken = job!['publishToken'] as string;
    const report = (event: Record<string, unknown>, target = sessionId) =>
      overHttp(gw.url, PUBLISH, { sessionId: target, requestId, agent: 'worker', event }, workerToken);

    expect(outcomeOf(await report({ runStarted: { message: 'on it' } }))).toBe('ok');
    const overSocket = await overWs(gw.wsUrl, PUBLISH, { sessionId, requestId, agent: 'worker', event: { progress: { percent: 50 } } }, workerToken, {
      carrier: 'param',
    });
    expect(outcomeOf(overSocket)).toBe('ok');
    expect(outcomeOf(await report({ runFinished: { result: { answer: 42 } } }))).toBe('ok');

    expect(await request.done).toBe('complete');
    expect(request.events.map((event) => [event['type'], event['agent']])).toEqual([
      ['REQUEST_QUEUED', null],
      ['RUN_STARTED', 'worker'],
      ['PROGRESS', 'worker'],
      ['RUN_FINISHED', 'worker'],
    ]);
    await all.count(5);
    expect(all.events.map((event) => event['seq'])).toEqual([1, 2, 3, 4, 5]);

    // The job's token is good for that session and nothing else.
    const before = await gw.app.eventLog.read({ userId: 'alice', sessionId: elsewhere }, 0, 100);
    expect(outcomeOf(await report({ progress: { percent: 1 } }, elsewhere))).toBe('FORBIDDEN');
    expect(outcomeOf(await overHttp(gw.url, AGENT_EVENTS, { sessionId }, workerToken))).toBe('FORBIDDEN');
    expect(outcomeOf(await overHttp(gw.url, SUBMIT_REQUEST, { sessionId, input }, workerToken))).toBe('FORBIDDEN');
    expect(outcomeOf(await overHttp(gw.url, END_SESSION, { sessionId }, workerToken))).toBe('FORBIDDEN');
    expect(await gw.app.eventLog.read({ userId: 'alice', sessionId: elsewhere }, 0, 100)).toEqual(before);
    expect(await gw.app.eventLog.takeJob()).toBeNull();
    expect(all.outcome).toBeUndefined();
    expectNoTokenInLogs(gw, [alice, workerToken]);
  });
});
