/**
 * The bad-input storm (issue 3, item 5). Over a thousand generated bad inputs — HTTP/GraphQL, raw Redis and
 * graphql-ws — hit one gateway on real Redis while a control session keeps publishing (mutation) and a control
 * subscriber (graphql-ws) keeps receiving. Afterwards: the process answers; every rejection carried a code (or a
 * named close code); the control subscriber saw every control event exactly once, in seq order; other sessions
 * are untouched; the gateway holds no Redis subscription beyond the control ones; memory is back near where it
 * started. The inputs come from a seeded PRNG: set BAD_INPUT_SEED to replay a run.
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { graphql, subscribe, subscribeSse, wsClient, type Collected } from '../support/clients.js';
import { redisGatewayForTest, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS, PUBLISH, SESSION, START_SESSION } from '../support/operations.js';
import { GRAPHQL_TRANSPORT_WS, isClose, RawWs, type CloseInfo, type ServerMessage } from '../support/raw-ws.js';

const SEED = Number(process.env['BAD_INPUT_SEED'] ?? 20_261_105);
const MAX_EVENT_BYTES = 65_536;
/** The gateway's WebSocket frame limit (src/app.ts). */
const MAX_WS_FRAME_BYTES = 1024 * 1024;
/**
 * How far heap used after forced GCs may end above where it started. The gateway runs in this process, so the
 * bound also covers what is not the gateway's to give back: what the test keeps (every gateway log line in
 * `gw.logs`, the control events, the tallies) and code compiled for paths the storm exercised first — together
 * about 4 MiB when nothing is retained. The rest of the margin is for bounded caches holding small documents.
 * 24 MiB over ~1,200 inputs flags a gateway that keeps ~20 KB per bad input.
 */
const HEAP_GROWTH_LIMIT_BYTES = 24 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness: every family draws from its own stream, so adding cases to one leaves the others unchanged.

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Text mixing GraphQL punctuation, letters, control characters, quotes and non-ASCII. */
  text(length: number): string {
    const pools = ['{}()[]:!$@.="\\#,|&', 'abcXYZ_09', ' \t\n\r', '\u0000\u0007\u001f\u007f', 'é日本😀\u200b\ufeff\u0301', '"\'`'];
    let out = '';
    while (out.length < length) out += this.pick(this.pick(pools).match(/[\s\S]/gu)!);
    return out;
  }
  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(0, 255)));
  }
  /** A name no schema element has. */
  unknownName(): string {
    return `zz_${Math.floor(this.next() * 36 ** 6).toString(36)}`;
  }
}

const familySeed = (family: string) => [...family].reduce((hash, char) => Math.imul(hash ^ char.charCodeAt(0), 16_777_619) >>> 0, SEED >>> 0);

/** Values no id argument may accept (ids are 1–128 of letters, digits, - and _). */
const UNSAFE_IDS: readonly unknown[] = [
  ':', 'a:b', '*', 'x*', '*:*', 'user_*', ' ', 'a b', ' lead', 'tail ', '\t', '\n', 'a\u0000b', 'é', '日本', '😀', 'a\u200bb',
  '', 'x'.repeat(129), '../../etc/passwd', 'a/b', 'a.b', '{a}', '$x', '[1]', 'channel:user_x:session_y', 7.5, -1.25, 1e-7,
  true, false, { a: 1 }, [], ['a'],
];
/** Strings that are no cursor this gateway issued (cursors are decimal seqs; these are malformed or far beyond). */
const BAD_CURSORS: readonly unknown[] = [
  'abc', '-1', '01', '1.5', ' 1', '1 ', '1e3', '0x10', '', 'x'.repeat(129), '9'.repeat(16), '+1', '١', '1000000000',
  '999999999999999', 'null', 7.5, 1e12, { after: 1 }, [1],
];

// ---------------------------------------------------------------------------------------------------------------
// Tallies.

type Family = 'http' | 'sse' | 'redis-publish' | 'redis-fcall' | 'ws-protocol' | 'ws-operation' | 'ws-abrupt';

class Tally {
  readonly tried = new Map<Family, number>();
  readonly outcomes = new Map<Family, Map<string, number>>();
  /** A request rejected without `extensions.code`, or a socket that misbehaved and was neither closed nor answered. */
  readonly uncoded: string[] = [];
  /** A bad input answered as if it were fine. */
  readonly accepted: string[] = [];
  /** A bad input that reached an internal error (HTTP INTERNAL_SERVER_ERROR, close 4500): the code hides a crash. */
  readonly internal: string[] = [];
  /** A bad operation that took its whole socket down, and every other subscription on it. */
  readonly collateral: string[] = [];
  private completions = 0;
  private readonly waiters = new Set<() => void>();

  try(family: Family) {
    this.tried.set(family, (this.tried.get(family) ?? 0) + 1);
  }

  outcome(family: Family, outcome: string) {
    const map = this.outcomes.get(family) ?? new Map<string, number>();
    map.set(outcome, (map.get(outcome) ?? 0) + 1);
    this.outcomes.set(family, map);
  }

  /** One input is done: wakes the control publisher, which publishes at most once per finished input. */
  done() {
    this.completions++;
    for (const waiter of [...this.waiters]) waiter();
  }

  nextCompletion(): Promise<void> {
    return new Promise((resolve) => {
      const waiter = () => {
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  get total() {
    return [...this.tried.values()].reduce((a, b) => a + b, 0);
  }

  summary() {
    return Object.fromEntries(
      [...this.tried].map(([family, tried]) => [
        family,
        { tried, outcomes: Object.fromEntries([...(this.outcomes.get(family) ?? new Map())].sort(([a], [b]) => a.localeCompare(b))) },
      ]),
    );
  }
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (index < items.length) await run(items[index++]!);
    }),
  );
}

/**
 * `global.gc` when the worker runs with --expose-gc (vitest's forks pool passes no such flag by default: it would
 * take `execArgv` in vitest.config.ts); otherwise V8's own gc, exposed at run time by setting the flag and reading
 * `gc` from a fresh context. Either way the collections are real, so heap used afterwards is what is reachable.
 */
function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledHeapUsed(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    // Let finalizers and closed sockets' callbacks run between collections.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------------------------
// The world the storm runs in.

interface World {
  gw: TestGateway;
  redis: Redis;
  /** Owner of the control session, the untouched session U and the victims. */
  owner: string;
  /** Another user, owner of the untouched session W. */
  other: string;
  control: string;
  untouched: string;
  untouchedOfOther: string;
  victims: string[];
  /** Receives the inputs that are legal if the gateway copes with them (see HttpCase.mayBeAccepted). */
  scratch: string;
}

const channelOf = (userId: string, sessionId: string) => `channel:user_${userId}:session_${sessionId}`;
const streamOf = (userId: string, sessionId: string) => `stream:user_${userId}:session_${sessionId}`;

// ---------------------------------------------------------------------------------------------------------------
// HTTP: generated requests.

interface HttpCase {
  label: string;
  method?: string;
  /** Appended to the GraphQL URL. */
  search?: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** `session(id)` of someone else's session answers null by design (it cannot be told from a missing one). */
  nullSession?: boolean;
  /**
   * Legal if the gateway copes (deeply nested but valid JSON): sent to the scratch session, so acceptance changes
   * no session that is checked; what it must not do is fail without a clear code.
   */
  mayBeAccepted?: boolean;
}

function httpCases(w: World, rng: Rng): HttpCase[] {
  const json = { 'content-type': 'application/json' };
  const as = (userId: string) => ({ ...json, 'x-user-id': userId });
  const gql = (label: string, query: string, variables?: Record<string, unknown>, userId = w.owner, extra: Partial<HttpCase> = {}): HttpCase => ({
    label,
    method: 'POST',
    headers: as(userId),
    body: JSON.stringify(variables === undefined ? { query } : { query, variables }),
    ...extra,
  });
  const C = w.control;
  const missing = () => `missing-${randomUUID()}`;
  const cases: HttpCase[] = [];

  // Malformed documents.
  const sources = [
    `mutation { publishAgentEvent(sessionId: "${C}", event: { progress: { percent: 5 } }) { id seq } }`,
    `query { agentEvents(sessionId: "${C}", first: 5) { id seq type } }`,
    `mutation { submitRequest(sessionId: "${C}", input: { prompt: "x", n: [1, 2] }) { id } }`,
    `subscription { agentProgress(sessionId: "${C}") { id seq } }`,
    `{ session(id: "${C}") { id status createdAt } }`,
    `mutation ($e: AgentEventInput!) { publishAgentEvent(sessionId: "${C}", event: $e) { id } }`,
  ];
  for (let i = 0; i < 40; i++) {
    const source = rng.pick(sources);
    const cut = rng.int(1, source.length - 1);
    cases.push(gql(`truncated document (${cut}/${source.length})`, source.slice(0, cut), { e: { progress: { percent: 1 } } }));
  }
  for (let i = 0; i < 30; i++) cases.push(gql('random-character document', rng.text(rng.int(1, 300))));
  for (const depth of [10, 100, 1_000, 5_000, 20_000]) {
    cases.push(gql(`${depth} opening braces`, '{'.repeat(depth)));
    cases.push(gql(`${depth} balanced braces`, '{'.repeat(depth) + '}'.repeat(depth)));
  }
  for (let i = 0; i < 10; i++) {
    const depth = rng.int(200, 6_000);
    cases.push(gql(`selection set nested ${depth} deep`, `{ session(id: "${C}") ${'{ id '.repeat(depth)}${'}'.repeat(depth + 1)}`));
  }
  for (let i = 0; i < 10; i++) {
    const depth = rng.int(5_000, 20_000);
    const query = `mutation { submitRequest(sessionId: "${w.scratch}", input: ${'['.repeat(depth)}${']'.repeat(depth)}) { id } }`;
    cases.push(gql(`JSON literal nested ${depth} deep`, query, undefined, w.owner, { mayBeAccepted: true }));
  }
  for (const size of [100_000, 400_000, 1_000_000]) {
    cases.push(gql(`${size}-character id literal`, `{ session(id: "${'x'.repeat(size)}") { id } }`));
    cases.push(gql(`${size}-character unterminated string`, `{ session(id: "${'y'.repeat(size)}`));
  }
  for (const doc of ['{ session(id: "\\u12") { id } }', '{ session(id: "\\x41") { id } }', '{ session(id: """x) { id } }', '{ session(id: "a\nb") { id } }', '{ session(id: 1.) { id } }', '{ session(id: 0x1) { id } }', '{ session(id: "x") { id } } }', '{ session(id: "x") { id }', '{ ...on }', '{ a(b: $) }', 'query query { }', '{ session(id: "x") @ { id } }', '"just a string"', '{ 日本 }']) {
    cases.push(gql(`malformed: ${doc.slice(0, 30)}`, doc));
  }

  // Wrong operations.
  for (const [label, query, variables, operationName] of [
    ['query asking for a mutation field', `query { startSession { id } }`],
    ['mutation asking for a query field', `mutation { session(id: "${C}") { id } }`],
    ['subscription with two root fields', `subscription { a: agentProgress(sessionId: "${C}") { id } b: agentProgress(sessionId: "${C}") { id } }`],
    ['unknown operation name', `query A { session(id: "${C}") { id } }`, undefined, 'B'],
    ['two anonymous operations', `{ session(id: "${C}") { id } } { session(id: "${C}") { id } }`],
    ['two operations, no name', `query A { session(id: "${C}") { id } } query B { session(id: "${C}") { id } }`],
    ['only a fragment', `fragment F on Query { session(id: "${C}") { id } }`],
    ['empty document', ''],
    ['whitespace document', ' \n\t '],
    ['comment-only document', '# nothing here'],
    ['missing required variable', `query ($id: ID!) { session(id: $id) { id } }`, {}],
    ['undefined variable', `{ session(id: $nope) { id } }`],
    ['unused variable', `query ($x: ID) { session(id: "${C}") { id } }`],
    ['variable of an unknown type', `query ($x: Nope) { session(id: $x) { id } }`],
    ['variable of an output type', `query ($x: Session) { session(id: "${C}") { id } }`],
    ['unknown directive', `{ session(id: "${C}") @nope { id } }`],
    ['fragment on a wrong type', `{ session(id: "${C}") { ... on AgentRequest { id } } }`],
    ['fragment cycle', '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }'],
    ['scalar with a selection', `{ session(id: "${C}") { id { x } } }`],
    ['object without a selection', `{ session(id: "${C}") }`],
    ['duplicate argument', `{ session(id: "${C}", id: "${C}") { id } }`],
    ['conflicting aliases', `{ s: session(id: "${C}") { id } s: agentEvents(sessionId: "${C}") { id } }`],
    ['missing required argument', '{ session { id } }'],
    ['mutation missing its event', `mutation { publishAgentEvent(sessionId: "${C}") { id } }`],
    ['enum where a string goes', `{ session(id: ACTIVE) { id } }`],
    ['Int out of 32-bit range', `{ agentEvents(sessionId: "${C}", first: 99999999999) { id } }`],
    ['string for an Int', `{ agentEvents(sessionId: "${C}", first: "5") { id } }`],
    ['list for an ID', `{ session(id: ["${C}"]) { id } }`],
  ] as [string, string, Record<string, unknown>?, string?][]) {
    cases.push({ ...gql(label, query, variables), body: JSON.stringify({ query, variables, operationName }) });
  }

  // Unknown fields, arguments and input fields.
  for (let i = 0; i < 60; i++) {
    const name = rng.unknownName();
    const kind = i % 6;
    if (kind === 0) cases.push(gql('unknown root field', `{ ${name} }`));
    else if (kind === 1) cases.push(gql('unknown field on Session', `{ session(id: "${C}") { id ${name} } }`));
    else if (kind === 2) cases.push(gql('unknown field on AgentEvent', `{ agentEvents(sessionId: "${C}") { seq ${name} } }`));
    else if (kind === 3) cases.push(gql('unknown argument', `{ session(id: "${C}", ${name}: 1) { id } }`));
    else if (kind === 4) cases.push(gql('unknown input field (literal)', `mutation { publishAgentEvent(sessionId: "${C}", event: { progress: { percent: 1, ${name}: 2 } }) { id } }`));
    else cases.push(gql('unknown input field (variable)', PUBLISH, { sessionId: C, event: { progress: { percent: 1, [name]: 2 } } }));
  }

  // Wrong variable types.
  const wrongScalars: unknown[] = [{ a: 1 }, [1], true, 7.5, null, 'x'.repeat(10)];
  for (let i = 0; i < 70; i++) {
    const bad = rng.pick(wrongScalars);
    const kind = i % 7;
    if (kind === 0) cases.push(gql('PUBLISH sessionId of a wrong type', PUBLISH, { sessionId: bad === 'x'.repeat(10) ? null : bad, event: { progress: { percent: 1 } } }));
    else if (kind === 1) cases.push(gql('PUBLISH event of a wrong type', PUBLISH, { sessionId: C, event: rng.pick(['progress', 42, [], null, true]) }));
    else if (kind === 2) cases.push(gql('percent of a wrong type', PUBLISH, { sessionId: C, event: { progress: { percent: rng.pick(['50', true, {}, [50], 'NaN']) } } }));
    else if (kind === 3) cases.push(gql('first of a wrong type', AGENT_EVENTS, { sessionId: C, first: rng.pick(['abc', 1.5, 2 ** 40, true, {}]) }));
    else if (kind === 4) cases.push(gql('agent of a wrong type', PUBLISH, { sessionId: C, agent: rng.pick([5, true, {}, ['a']]), event: { progress: { percent: 1 } } }));
    else if (kind === 5) cases.push(gql('required input field missing', PUBLISH, { sessionId: C, event: rng.pick([{ runFailed: {} }, { stepStarted: {} }, { toolCallStarted: { toolName: 't' } }, { agentTransferred: { fromAgent: 'a' } }]) }));
    else cases.push(gql('Int field out of range', PUBLISH, { sessionId: C, event: { runFinished: { inputTokens: rng.pick([-1, 2 ** 31, 1.5, 'many']) } } }));
  }

  // oneOf with zero or several fields.
  const oneOfBodies: [string, Record<string, unknown>][] = [
    ['no field', {}],
    ['two fields', { progress: { percent: 1 }, custom: { name: 'x' } }],
    ['three fields', { progress: { percent: 1 }, stepStarted: { name: 's' }, runStarted: {} }],
    ['a null field', { progress: null }],
    ['a null and a set field', { progress: null, custom: { name: 'x' } }],
  ];
  for (let i = 0; i < 40; i++) {
    const [label, event] = rng.pick(oneOfBodies);
    if (i % 2 === 0) cases.push(gql(`oneOf with ${label} (variable)`, PUBLISH, { sessionId: C, event }));
    else {
      const literal = JSON.stringify(event).replace(/"([A-Za-z]+)":/g, '$1: ');
      cases.push(gql(`oneOf with ${label} (literal)`, `mutation { publishAgentEvent(sessionId: "${C}", event: ${literal}) { id } }`));
    }
  }

  // Every id argument with unsafe values.
  const idCases: [string, (id: unknown) => [string, Record<string, unknown>]][] = [
    ['startSession(sessionId)', (id) => [START_SESSION, { sessionId: id }]],
    ['submitRequest(sessionId)', (id) => ['mutation ($s: ID!) { submitRequest(sessionId: $s, input: {}) { id } }', { s: id }]],
    ['publishAgentEvent(sessionId)', (id) => [PUBLISH, { sessionId: id, event: { progress: { percent: 1 } } }]],
    ['publishAgentEvent(requestId)', (id) => [PUBLISH, { sessionId: C, requestId: id, event: { progress: { percent: 1 } } }]],
    ['toolCallStarted.toolCallId', (id) => [PUBLISH, { sessionId: C, event: { toolCallStarted: { toolCallId: id, toolName: 'search' } } }]],
    ['textMessageDelta.messageId', (id) => [PUBLISH, { sessionId: C, event: { textMessageDelta: { messageId: id, delta: 'hi' } } }]],
    ['endSession(sessionId)', (id) => ['mutation ($s: ID!) { endSession(sessionId: $s) { id } }', { s: id }]],
    ['session(id)', (id) => [SESSION, { id }]],
    ['agentEvents(sessionId)', (id) => [AGENT_EVENTS, { sessionId: id }]],
    ['agentEvents(requestId)', (id) => [AGENT_EVENTS, { sessionId: C, requestId: id }]],
  ];
  for (const [argument, make] of idCases) {
    for (let i = 0; i < 12; i++) {
      const id = rng.pick(UNSAFE_IDS);
      const [query, variables] = make(id);
      cases.push(gql(`${argument} = ${JSON.stringify(id)?.slice(0, 20)}`, query, variables));
    }
  }
  // …and inline, where the parser sees them first.
  for (let i = 0; i < 10; i++) {
    const id = rng.pick(UNSAFE_IDS.filter((v): v is string => typeof v === 'string'));
    cases.push(gql(`inline session(id) = ${JSON.stringify(id).slice(0, 20)}`, `{ session(id: ${JSON.stringify(id)}) { id } }`));
  }

  // Bad `after` cursors.
  for (let i = 0; i < 40; i++) {
    const after = rng.pick(BAD_CURSORS);
    cases.push(gql(`agentEvents after ${JSON.stringify(after).slice(0, 20)}`, AGENT_EVENTS, { sessionId: C, after }));
  }

  // Oversized events and request inputs (and text over its own limit).
  for (let i = 0; i < 30; i++) {
    const kind = i % 5;
    const size = rng.int(MAX_EVENT_BYTES + 1, 4 * MAX_EVENT_BYTES);
    if (kind === 0) cases.push(gql(`custom value of ${size} characters`, PUBLISH, { sessionId: C, event: { custom: { name: 'big', value: 'v'.repeat(size) } } }));
    else if (kind === 1) cases.push(gql(`${size / 2 | 0} two-byte characters`, PUBLISH, { sessionId: C, event: { progress: { message: 'é'.repeat((size / 2) | 0) } } }));
    else if (kind === 2) cases.push(gql(`request input of ${size} characters`, 'mutation ($s: ID!, $i: JSON!) { submitRequest(sessionId: $s, input: $i) { id } }', { s: C, i: { text: 'i'.repeat(size) } }));
    else if (kind === 3) cases.push(gql(`message of ${10_001 + i} characters (limit 10 000)`, PUBLISH, { sessionId: C, event: { runFailed: { message: 'm'.repeat(10_001 + i) } } }));
    else cases.push(gql(`agent name of ${201 + i} characters (limit 200)`, PUBLISH, { sessionId: C, agent: 'a'.repeat(201 + i), event: { progress: { percent: 1 } } }));
  }
  cases.push(gql('request input of 2 MB', 'mutation ($s: ID!, $i: JSON!) { submitRequest(sessionId: $s, input: $i) { id } }', { s: C, i: 'x'.repeat(2_000_000) }));
  cases.push(gql('custom value of 2 MB', PUBLISH, { sessionId: C, event: { custom: { name: 'huge', value: ['y'.repeat(2_000_000)] } } }));
  for (const depth of [10_000, 30_000, 100_000]) {
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    cases.push({
      label: `request input nested ${depth} deep (variable)`,
      method: 'POST',
      headers: as(w.owner),
      body: `{"query":"mutation ($s: ID!, $i: JSON!) { submitRequest(sessionId: $s, input: $i) { id } }","variables":{"s":"${w.scratch}","i":${nested}}}`,
      mayBeAccepted: true,
    });
    cases.push({
      label: `custom value nested ${depth} deep (variable)`,
      method: 'POST',
      headers: as(w.owner),
      body: `{"query":"mutation ($v: JSON) { publishAgentEvent(sessionId: \\"${w.scratch}\\", event: { custom: { name: \\"n\\", value: $v } }) { id } }","variables":{"v":${nested}}}`,
      mayBeAccepted: true,
    });
  }

  // Invalid JSON bodies.
  const goodBody = JSON.stringify({ query: `{ session(id: "${C}") { id } }` });
  const badBodies: [string, string | Buffer][] = [
    ['empty body', ''],
    ['byte-order mark', `\ufeff${goodBody}`],
    ['single quotes', goodBody.replaceAll('"', "'")],
    ['trailing comma', goodBody.replace(/}$/, ',}')],
    ['NaN variables', `{"query":"{ session(id: \\"${C}\\") { id } }","variables":{"x":NaN}}`],
    ['trailing garbage', `${goodBody} trailing`],
    ['two objects', `${goodBody}${goodBody}`],
    ['JSON null', 'null'],
    ['JSON number', '42'],
    ['JSON string', '"{ session }"'],
    ['JSON true', 'true'],
    ['a batch', `[${goodBody},${goodBody}]`],
    ['empty array', '[]'],
    ['no query', '{}'],
    ['query null', '{"query":null}'],
    ['query a number', '{"query":5}'],
    ['query an object', '{"query":{"a":1}}'],
    ['variables a string', `{"query":"{ __typename }","variables":"x"}`],
    ['variables an array', `{"query":"{ __typename }","variables":[1]}`],
    ['extensions a number', `{"query":"{ __typename }","extensions":5}`],
    ['operationName a number', `{"query":"{ __typename }","operationName":5}`],
    ['nested 100 000 arrays', '['.repeat(100_000) + ']'.repeat(100_000)],
  ];
  for (const [label, body] of badBodies) cases.push({ label: `invalid body: ${label}`, method: 'POST', headers: as(w.owner), body });
  for (let i = 0; i < 14; i++) {
    const cut = rng.int(1, goodBody.length - 1);
    cases.push({ label: `invalid body: truncated JSON (${cut})`, method: 'POST', headers: as(w.owner), body: goodBody.slice(0, cut) });
  }
  for (let i = 0; i < 14; i++) cases.push({ label: 'invalid body: random bytes', method: 'POST', headers: as(w.owner), body: rng.bytes(rng.int(1, 400)) });

  // Wrong content types (and an unacceptable Accept). The body is a rejected document, so whichever way the
  // gateway goes it must answer with a coded error.
  const rejectedDoc = JSON.stringify({ query: `{ ${rng.unknownName()} }` });
  for (const type of ['text/plain', 'application/xml', 'application/octet-stream', 'image/png', 'application/graphql-response+json', 'application/jsonx', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xx']) {
    cases.push({ label: `content-type ${type}`, method: 'POST', headers: { 'content-type': type, 'x-user-id': w.owner }, body: rejectedDoc });
  }
  cases.push({ label: 'no content-type', method: 'POST', headers: { 'x-user-id': w.owner }, body: rejectedDoc });
  for (const accept of ['image/png', 'text/csv', 'application/xml']) {
    cases.push({ label: `accept ${accept}`, method: 'POST', headers: { ...as(w.owner), accept }, body: rejectedDoc });
  }

  // GET with mutations, and other methods.
  const getCase = (label: string, params: Record<string, string>): HttpCase => ({
    label,
    method: 'GET',
    search: `?${new URLSearchParams(params)}`,
    headers: { accept: 'application/json', 'x-user-id': w.owner },
  });
  for (let i = 0; i < 8; i++) cases.push(getCase('GET startSession', { query: `mutation { startSession(sessionId: "${missing()}") { id } }` }));
  cases.push(getCase('GET publishAgentEvent', { query: `mutation { publishAgentEvent(sessionId: "${C}", event: { progress: { percent: 1 } }) { id } }` }));
  cases.push(getCase('GET endSession', { query: `mutation { endSession(sessionId: "${C}") { id } }` }));
  cases.push(getCase('GET submitRequest', { query: `mutation { submitRequest(sessionId: "${C}", input: {}) { id } }` }));
  cases.push(getCase('GET mutation by operationName', { query: `query Q { session(id: "${C}") { id } } mutation M { startSession { id } }`, operationName: 'M' }));
  cases.push(getCase('GET without query', { foo: 'bar' }));
  cases.push(getCase('GET with an unsafe id', { query: '{ session(id: "a:b") { id } }' }));
  cases.push(getCase('GET with malformed variables JSON', { query: `{ session(id: "${C}") { id } }`, variables: '{nope' }));
  cases.push(getCase('GET with malformed extensions JSON', { query: `{ session(id: "${C}") { id } }`, extensions: '{"a":' }));
  cases.push(getCase('GET with variables not an object', { query: `{ session(id: "${C}") { id } }`, variables: '[1]' }));
  for (const method of ['PUT', 'DELETE', 'PATCH']) cases.push({ label: `${method} request`, method, headers: as(w.owner), body: goodBody });

  // Someone else's sessions, and malformed identities.
  for (const [victim, victimOwner] of [[C, w.owner], [w.untouched, w.owner], [w.untouchedOfOther, w.other]] as const) {
    const intruder = victimOwner === w.owner ? w.other : w.owner;
    for (let i = 0; i < 3; i++) {
      cases.push(gql(`another user's agentEvents`, AGENT_EVENTS, { sessionId: victim }, intruder));
      cases.push(gql(`another user's submitRequest`, 'mutation ($s: ID!) { submitRequest(sessionId: $s, input: { steal: true }) { id } }', { s: victim }, intruder));
      cases.push(gql(`another user's endSession`, 'mutation ($s: ID!) { endSession(sessionId: $s) { id status } }', { s: victim }, intruder));
      cases.push(gql(`another user's startSession (id taken)`, START_SESSION, { sessionId: victim }, intruder));
      cases.push(gql(`another user's session(id)`, SESSION, { id: victim }, intruder, { nullSession: true }));
    }
  }
  // (fetch trims header values, so a blank x-user-id would arrive empty, which means the default user.)
  for (const userId of ['a:b', '*', 'x'.repeat(129), 'é', 'user_*', 'a b', '../x']) {
    cases.push(gql(`x-user-id ${JSON.stringify(userId).slice(0, 20)}`, SESSION, { id: C }, userId));
  }
  for (const userId of ['a:b', '*', 'x'.repeat(129), 'é', ' ', 'user_*', 'a b', '../x', '日本']) {
    cases.push({ ...gql(`userId parameter ${JSON.stringify(userId).slice(0, 20)}`, SESSION, { id: C }), headers: json, search: `?${new URLSearchParams({ userId })}` });
  }
  return cases;
}

async function runHttp(w: World, tally: Tally, cases: HttpCase[]): Promise<void> {
  await pool(cases, 6, async (c) => {
    tally.try('http');
    const body = typeof c.body === 'string' || c.body === undefined ? c.body : new Uint8Array(c.body);
    const response = await fetch(`${w.gw.url}${c.search ?? ''}`, { method: c.method ?? 'POST', headers: c.headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    let answer: { data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] } | undefined;
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = undefined;
    }
    const what = `${c.label} → HTTP ${response.status}`;
    const errors = Array.isArray(answer?.errors) ? answer.errors : [];
    if (errors.length > 0) {
      for (const error of errors) {
        const code = error?.extensions?.['code'];
        if (typeof code !== 'string') {
          tally.uncoded.push(`HTTP ${what}: error without extensions.code: ${JSON.stringify(error).slice(0, 200)}`);
          tally.outcome('http', 'error without code');
          continue;
        }
        tally.outcome('http', code);
        if (code === 'INTERNAL_SERVER_ERROR') tally.internal.push(`HTTP ${what}: ${JSON.stringify(error).slice(0, 160)}`);
      }
    } else if (c.nullSession && answer?.data && answer.data['session'] === null) {
      tally.outcome('http', 'null (not yours)');
    } else if (c.mayBeAccepted && response.status === 200 && answer?.data) {
      tally.outcome('http', 'accepted (legal input)');
    } else if (response.status >= 400) {
      tally.uncoded.push(`HTTP ${what}: rejected with no GraphQL error (content-type ${response.headers.get('content-type')}, body ${JSON.stringify(text.slice(0, 60))})`);
      tally.outcome('http', `HTTP ${response.status}, no error body`);
    } else {
      tally.accepted.push(`HTTP ${what}: ${text.slice(0, 200)}`);
      tally.outcome('http', 'accepted');
    }
    tally.done();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// SSE: refused subscriptions over Yoga's event-stream transport.

async function runSse(w: World, tally: Tally, rng: Rng): Promise<void> {
  const cases: [string, Record<string, unknown>, string][] = [];
  for (let i = 0; i < 8; i++) cases.push(['unsafe sessionId', { sessionId: rng.pick(UNSAFE_IDS) }, w.owner]);
  for (let i = 0; i < 4; i++) cases.push(['unsafe requestId', { sessionId: w.control, requestId: rng.pick(UNSAFE_IDS) }, w.owner]);
  for (let i = 0; i < 4; i++) cases.push(['bad cursor', { sessionId: w.control, after: rng.pick(BAD_CURSORS) }, w.owner]);
  cases.push(["another user's session", { sessionId: w.control }, w.other]);
  cases.push(["another user's session", { sessionId: w.untouchedOfOther }, w.owner]);
  cases.push(['a missing session', { sessionId: `missing-${randomUUID()}` }, w.owner]);
  cases.push(['malformed identity', { sessionId: w.control }, 'a:b']);
  await pool(cases, 4, async ([label, variables, userId]) => {
    tally.try('sse');
    const sse = subscribeSse(w.gw.url, AGENT_PROGRESS, variables, userId);
    await sse.done;
    const what = `SSE ${label} ${JSON.stringify(variables).slice(0, 60)}`;
    if (sse.events.length > 0) tally.accepted.push(`${what}: received ${sse.events.length} events`);
    if (sse.errors.length === 0) {
      tally.uncoded.push(`${what}: ended without an error`);
      tally.outcome('sse', 'no error');
    }
    for (const error of sse.errors) {
      const code = error.extensions?.['code'];
      if (typeof code === 'string') tally.outcome('sse', code);
      else tally.uncoded.push(`${what}: error without extensions.code: ${JSON.stringify(error).slice(0, 200)}`);
      if (code === 'INTERNAL_SERVER_ERROR') tally.internal.push(`${what}: ${error.message}`);
    }
    tally.done();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Raw Redis: garbage on the control session's channel, and invalid FCALL apg_publish calls.

function channelGarbage(rng: Rng): (string | Buffer)[] {
  const valid = [
    { type: 'PROGRESS', percent: 40, message: 'thinking' },
    { type: 'TOOL_CALL_STARTED', toolCallId: 't1', toolName: 'search', args: { q: 'x' } },
    { type: 'RUN_FAILED', message: 'boom', retryable: true },
  ];
  const invalidEvents: unknown[] = [
    { type: 'PROGRESS', percent: 101 },
    { type: 'PROGRESS', percent: -1 },
    { type: 'PROGRESS', percent: '50' },
    { type: 'PROGRESS', requestId: 'a:b' },
    { type: 'PROGRESS', agent: 'a'.repeat(201) },
    { type: 'PROGRESS', zzUnknown: 1 },
    { type: 'RUN_FAILED' },
    { type: 'TOOL_CALL_STARTED', toolCallId: '*', toolName: 'x' },
    { type: 'RUN_FINISHED', inputTokens: -5 },
    { type: 'STATE_DELTA', patch: 'not an array' },
    { type: 'SESSION_ENDED', reason: 'ENDED' },
    { type: 'SESSION_STARTED' },
    { type: 'REQUEST_QUEUED', requestId: 'r1', input: {} },
    { type: 'progress', percent: 5 },
    { type: 7 },
    { type: null, percent: 5 },
    { percent: 5 },
    {},
    // Forged durable envelopes, and a copy of a delivered event (its `seq` is no field of the raw format).
    { $seq: -3, $ts: 1, type: 'PROGRESS' },
    { $seq: 0, $ts: 1, type: 'PROGRESS' },
    { $seq: 1.5, $ts: 1, type: 'PROGRESS' },
    { $seq: '9', $ts: 1, type: 'PROGRESS' },
    { $seq: 9 },
    { $seq: 9, $ts: 'now', type: 'PROGRESS' },
    { $seq: null, type: 'PROGRESS' },
    { seq: 3, ts: 1, type: 'PROGRESS', percent: 5 },
  ];
  const garbage: (string | Buffer)[] = [];
  for (let i = 0; i < 40; i++) {
    const source = JSON.stringify(rng.pick(valid));
    garbage.push(source.slice(0, rng.int(1, source.length - 1)));
  }
  for (let i = 0; i < 25; i++) garbage.push(rng.text(rng.int(1, 200)).replace(/^\s*[[{"\d-tfn]/, '#'));
  for (const shape of ['[]', '[{"type":"PROGRESS"}]', '42', '-1.5', '"PROGRESS"', 'true', 'null', '{"type":"PROGRESS",}', "{'type':'PROGRESS'}", '{"type":"PROGRESS","percent":NaN}']) garbage.push(shape);
  for (const event of invalidEvents) garbage.push(JSON.stringify(event));
  for (let i = 0; i < 30; i++) garbage.push(JSON.stringify({ ...rng.pick(valid), type: rng.unknownName().toUpperCase() }));
  for (let i = 0; i < 20; i++) garbage.push(JSON.stringify(rng.pick(invalidEvents)));
  for (let i = 0; i < 20; i++) garbage.push(rng.bytes(rng.int(1, 300)));
  for (const size of [MAX_EVENT_BYTES + 100, 3 * MAX_EVENT_BYTES, 1_000_000, 2_000_000]) garbage.push(JSON.stringify({ type: 'PROGRESS', message: 'h'.repeat(size) }));
  garbage.push(JSON.stringify({ type: 'CUSTOM', name: 'wide', value: '€'.repeat(30_000) }));
  garbage.push('');
  garbage.push('');
  return garbage;
}

interface FcallCase {
  label: string;
  numkeys: number;
  keys: string[];
  args: (string | Buffer)[];
  /** The call has the documented shape (2 keys, 1 argument): its error must start with a code. */
  wellFormed: boolean;
}

function fcallCases(w: World, rng: Rng): FcallCase[] {
  const keys = [streamOf(w.owner, w.control), `session:${w.control}`];
  const call = (label: string, json: string | Buffer, callKeys = keys): FcallCase => ({ label, numkeys: 2, keys: callKeys, args: [json], wellFormed: true });
  const valid = JSON.stringify({ type: 'PROGRESS', percent: 1, message: 'would be accepted with the right keys' });
  const cases: FcallCase[] = [];
  for (let i = 0; i < 20; i++) {
    const source = '{"type":"PROGRESS","percent":12,"message":"half"}';
    cases.push(call('truncated JSON', source.slice(0, rng.int(1, source.length - 1))));
  }
  for (const json of ['[]', '42', 'null', '"x"', '{}', '{"type":"TELEPORTED"}', '{"type":"SESSION_ENDED","reason":"ENDED"}', '{"type":"SESSION_STARTED"}', '{"type":"REQUEST_QUEUED"}', '{"type":"PROGRESS","percent":101}', '{"type":"PROGRESS","percent":NaN}', '{"type":"PROGRESS","percent":0x10}', '{"type":"PROGRESS","requestId":"a:b"}', '{"type":"RUN_FAILED"}', '{"type":"PROGRESS","zz":1}', '{"type":"STATE_DELTA","patch":[]}', `{"type":"CUSTOM","name":"x","value":${'['.repeat(2000)}${']'.repeat(2000)}}`]) {
    cases.push(call(`invalid event ${json.slice(0, 40)}`, json));
  }
  for (let i = 0; i < 15; i++) cases.push(call('binary garbage', rng.bytes(rng.int(1, 300))));
  for (let i = 0; i < 10; i++) cases.push(call('random text', rng.text(rng.int(1, 200))));
  for (const size of [MAX_EVENT_BYTES + 1, 2 * MAX_EVENT_BYTES, 1_000_000]) cases.push(call(`${size}-byte event`, JSON.stringify({ type: 'PROGRESS', message: 'z'.repeat(size) })));
  cases.push(call('a missing session', valid, [streamOf(w.owner, `missing-${randomUUID()}`), `session:missing-${randomUUID()}`]));
  cases.push(call("a stream key naming another user", valid, [streamOf(w.other, w.control), keys[1]!]));
  cases.push(call("the control stream with the untouched session's key", valid, [keys[0]!, `session:${w.untouched}`]));
  cases.push(call("the untouched stream with the control session's key", valid, [streamOf(w.owner, w.untouched), keys[1]!]));
  cases.push(call('a glob in the stream key', valid, [`${keys[0]}*`, keys[1]!]));
  cases.push(call('a glob in the session key', valid, [keys[0]!, `${keys[1]}*`]));
  cases.push(call('keys swapped', valid, [keys[1]!, keys[0]!]));
  cases.push(call('the channel as the stream key', valid, [channelOf(w.owner, w.control), keys[1]!]));
  cases.push(call('empty keys', valid, ['', '']));
  // Calls of the wrong shape.
  cases.push({ label: 'no keys, no arguments', numkeys: 0, keys: [], args: [], wellFormed: false });
  cases.push({ label: 'keys but no event', numkeys: 2, keys, args: [], wellFormed: false });
  cases.push({ label: 'one key', numkeys: 1, keys: [keys[0]!], args: [valid], wellFormed: false });
  cases.push({ label: 'keys passed as arguments', numkeys: 0, keys: [], args: [...keys, valid], wellFormed: false });
  cases.push({ label: 'numkeys larger than the arguments', numkeys: 5, keys, args: [valid], wellFormed: false });
  cases.push({ label: 'negative numkeys', numkeys: -1, keys, args: [valid], wellFormed: false });
  return cases;
}

const CODED_REPLY = /^(BAD_USER_INPUT|PAYLOAD_TOO_LARGE|SESSION_NOT_FOUND) /;

async function runRedis(w: World, tally: Tally, garbage: (string | Buffer)[], fcalls: FcallCase[]): Promise<{ published: number; uncodedFcall: string[] }> {
  const channel = channelOf(w.owner, w.control);
  let published = 0;
  const uncodedFcall: string[] = [];
  const publishing = pool(garbage, 2, async (message) => {
    tally.try('redis-publish');
    const receivers = await w.redis.publish(channel, message);
    published++;
    // One receiver: the gateway's pub/sub connection, which must drop it.
    tally.outcome('redis-publish', receivers === 1 ? 'delivered to the gateway' : `reached ${receivers} connections`);
    tally.done();
  });
  const calling = pool(fcalls, 2, async (c) => {
    tally.try('redis-fcall');
    let reply: string;
    try {
      await w.redis.call('FCALL', 'apg_publish', c.numkeys, ...c.keys, ...c.args);
      reply = 'accepted';
      tally.accepted.push(`FCALL apg_publish (${c.label}): accepted`);
    } catch (error) {
      reply = (error as Error).message;
    }
    const code = CODED_REPLY.exec(reply)?.[1];
    tally.outcome('redis-fcall', code ?? (reply === 'accepted' ? 'accepted' : 'uncoded error'));
    if (!code && reply !== 'accepted') {
      uncodedFcall.push(`FCALL apg_publish (${c.label}): ${reply.slice(0, 160)}`);
      if (c.wellFormed) tally.uncoded.push(`FCALL apg_publish (${c.label}), a well-formed call, got an uncoded error: ${reply.slice(0, 160)}`);
    }
    tally.done();
  });
  await Promise.all([publishing, calling]);
  return { published, uncodedFcall };
}

// ---------------------------------------------------------------------------------------------------------------
// graphql-ws: protocol violations, bad operations, abrupt disconnects.

interface WsProtocolCase {
  label: string;
  protocol?: string | null;
  /** Runs the misbehaviour on an open socket; the socket must then close with a 4xxx/1xxx code. */
  act: (ws: RawWs) => Promise<void>;
}

function wsProtocolCases(w: World, rng: Rng): WsProtocolCase[] {
  const init = (ws: RawWs) => ws.init({ userId: w.owner });
  const afterAck = (send: (ws: RawWs) => void) => async (ws: RawWs) => {
    const ack = await init(ws);
    if (!isClose(ack)) send(ws);
  };
  const cases: WsProtocolCase[] = [];
  for (let i = 0; i < 2; i++) cases.push({ label: 'no subprotocol', protocol: null, act: async (ws) => void ws.send({ type: 'connection_init' }) });
  for (let i = 0; i < 2; i++) cases.push({ label: 'the legacy graphql-ws subprotocol', protocol: 'graphql-ws', act: async (ws) => void ws.send({ type: 'connection_init' }) });
  for (let i = 0; i < 8; i++) cases.push({ label: 'subscribe before connection_init', act: async (ws) => ws.subscribe(`s${i}`, AGENT_PROGRESS, { sessionId: w.control }) });
  for (let i = 0; i < 8; i++) cases.push({ label: 'two connection_inits', act: afterAck((ws) => ws.send({ type: 'connection_init', payload: { userId: w.owner } })) });
  for (let i = 0; i < 10; i++) {
    const type = rng.pick([rng.unknownName(), 'start', 'stop', 'connection_terminate', 'data', 'ka', '', 'SUBSCRIBE', 42, null]);
    cases.push({ label: `unknown message type ${JSON.stringify(type)}`, act: afterAck((ws) => ws.send({ id: '1', type, payload: {} })) });
  }
  cases.push({ label: 'a message without a type', act: afterAck((ws) => ws.send({ id: '1', payload: {} })) });
  for (let i = 0; i < 10; i++) cases.push({ label: 'non-JSON text', act: afterAck((ws) => ws.send(rng.text(rng.int(1, 200)).replace(/^\s*[[{"\d-tfn]/, '#'))) });
  for (const text of ['[]', '42', 'null', '"connection_init"', 'true']) cases.push({ label: `JSON that is not an object: ${text}`, act: afterAck((ws) => ws.send(text)) });
  for (let i = 0; i < 10; i++) cases.push({ label: 'a binary frame of random bytes', act: afterAck((ws) => ws.send(rng.bytes(rng.int(1, 300)))) });
  for (let i = 0; i < 3; i++) cases.push({ label: 'a binary frame before connection_init', act: async (ws) => ws.send(rng.bytes(64)) });
  for (let i = 0; i < 8; i++) {
    cases.push({
      label: 'a duplicate subscription id',
      act: afterAck((ws) => {
        ws.subscribe('dup', AGENT_PROGRESS, { sessionId: w.untouched });
        ws.subscribe('dup', AGENT_PROGRESS, { sessionId: w.untouched });
      }),
    });
  }
  for (const extra of [1, 4096, 65_536]) cases.push({ label: `a frame of 1 MiB + ${extra} bytes`, act: afterAck((ws) => ws.send('x'.repeat(MAX_WS_FRAME_BYTES + extra))) });
  cases.push({ label: 'a 2 MiB binary frame before connection_init', act: async (ws) => ws.send(Buffer.alloc(2 * MAX_WS_FRAME_BYTES, 0x7b)) });
  for (const userId of ['a:b', '*', 'user_*', 'x'.repeat(129), 'é', ' ', 5, true, { id: 'x' }, ['a']]) {
    cases.push({ label: `connectionParams userId ${JSON.stringify(userId).slice(0, 20)}`, act: async (ws) => void (await ws.init({ userId })) });
  }
  for (const payload of ['x', [1], 42]) cases.push({ label: `connection_init payload ${JSON.stringify(payload)}`, act: async (ws) => void (await ws.init(payload)) });
  for (const [label, message] of [
    ['subscribe without an id', { type: 'subscribe', payload: { query: '{ __typename }' } }],
    ['subscribe with an empty id', { id: '', type: 'subscribe', payload: { query: '{ __typename }' } }],
    ['subscribe with a numeric id', { id: 7, type: 'subscribe', payload: { query: '{ __typename }' } }],
    ['subscribe without a payload', { id: '1', type: 'subscribe' }],
    ['subscribe without a query', { id: '1', type: 'subscribe', payload: {} }],
    ['subscribe with a numeric query', { id: '1', type: 'subscribe', payload: { query: 5 } }],
    ['subscribe with string variables', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: 'x' } }],
    ['subscribe with numeric extensions', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', extensions: 5 } }],
    ['subscribe with a numeric operationName', { id: '1', type: 'subscribe', payload: { query: '{ __typename }', operationName: 5 } }],
    ['complete without an id', { type: 'complete' }],
  ] as [string, object][]) {
    cases.push({ label, act: afterAck((ws) => ws.send(message)) });
  }
  for (const type of ['next', 'error', 'connection_ack']) {
    cases.push({ label: `a server-only ${type} message from the client`, act: afterAck((ws) => ws.send({ id: '1', type, payload: type === 'error' ? [] : {} })) });
  }
  // Silence: the server closes a socket that never sends connection_init (graphql-ws waits 3 s).
  for (let i = 0; i < 2; i++) cases.push({ label: 'no connection_init at all', act: async () => {} });
  return cases;
}

async function runWsProtocol(w: World, tally: Tally, cases: WsProtocolCase[]): Promise<void> {
  await pool(cases, 4, async (c) => {
    tally.try('ws-protocol');
    const ws = await RawWs.connect(w.gw.wsUrl, c.protocol === undefined ? GRAPHQL_TRANSPORT_WS : c.protocol);
    if (!ws.closeInfo) await c.act(ws);
    const closed = await ws.until(() => false, `the server to close the socket after: ${c.label}`);
    if (!isClose(closed)) throw new Error('unreachable');
    const errors = ws.received.filter((m) => m.type === 'error' || (m.type === 'next' && m.payload?.errors));
    if (errors.length > 0) {
      for (const message of errors) recordWsErrors(tally, 'ws-protocol', c.label, message);
    }
    tally.outcome('ws-protocol', `close ${closed.code}`);
    if (!/^[14]\d\d\d$/.test(String(closed.code))) tally.uncoded.push(`WebSocket ${c.label}: closed with ${closed.code} ${closed.reason}`);
    if (closed.code === 4500) tally.internal.push(`WebSocket ${c.label}: closed 4500 "${closed.reason}"`);
    if (ws.received.some((m) => m.type === 'next' && !m.payload?.errors)) tally.accepted.push(`WebSocket ${c.label}: an operation ran`);
    tally.done();
  });
}

function recordWsErrors(tally: Tally, family: Family, label: string, message: ServerMessage): void {
  const errors: { message?: string; extensions?: Record<string, unknown> }[] = message.type === 'error' ? message.payload : message.payload.errors;
  for (const error of Array.isArray(errors) ? errors : [errors]) {
    const code = error?.extensions?.['code'];
    if (typeof code === 'string') tally.outcome(family, code);
    else {
      tally.outcome(family, 'error without code');
      tally.uncoded.push(`WebSocket ${label}: ${message.type} without extensions.code: ${JSON.stringify(error).slice(0, 160)}`);
    }
    if (code === 'INTERNAL_SERVER_ERROR') tally.internal.push(`WebSocket ${label}: ${JSON.stringify(error).slice(0, 160)}`);
  }
}

interface WsOperation {
  label: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

function wsOperations(w: World, rng: Rng): WsOperation[] {
  const C = w.control;
  const ops: WsOperation[] = [];
  const progress = (variables: Record<string, unknown>, label: string) => ops.push({ label, query: AGENT_PROGRESS, variables });
  for (let i = 0; i < 12; i++) progress({ sessionId: rng.pick(UNSAFE_IDS) }, 'agentProgress with an unsafe sessionId');
  for (let i = 0; i < 6; i++) progress({ sessionId: C, requestId: rng.pick(UNSAFE_IDS) }, 'agentProgress with an unsafe requestId');
  for (let i = 0; i < 10; i++) progress({ sessionId: C, after: rng.pick(BAD_CURSORS) }, 'agentProgress with a bad cursor');
  progress({ sessionId: w.untouchedOfOther }, "agentProgress on another user's session");
  progress({ sessionId: `missing-${randomUUID()}` }, 'agentProgress on a missing session');
  progress({}, 'agentProgress without its sessionId');
  for (let i = 0; i < 8; i++) {
    const source = `subscription { agentProgress(sessionId: "${C}") { id seq } }`;
    ops.push({ label: 'a truncated document', query: source.slice(0, rng.int(1, source.length - 1)) });
  }
  for (let i = 0; i < 6; i++) ops.push({ label: 'a random-character document', query: rng.text(rng.int(1, 200)) });
  for (let i = 0; i < 6; i++) ops.push({ label: 'an unknown field', query: `subscription { agentProgress(sessionId: "${C}") { seq ${rng.unknownName()} } }` });
  ops.push({ label: 'an unknown operation name', query: `subscription A { agentProgress(sessionId: "${C}") { seq } }`, operationName: 'B' });
  ops.push({ label: 'two operations without a name', query: `subscription A { agentProgress(sessionId: "${C}") { seq } } query B { session(id: "${C}") { id } }` });
  ops.push({ label: 'two root fields in a subscription', query: `subscription { a: agentProgress(sessionId: "${C}") { seq } b: agentProgress(sessionId: "${C}") { seq } }` });
  ops.push({ label: 'a oneOf event with two fields', query: PUBLISH, variables: { sessionId: C, event: { progress: { percent: 1 }, custom: { name: 'x' } } } });
  ops.push({ label: 'a oneOf event with no field', query: `mutation { publishAgentEvent(sessionId: "${C}", event: {}) { id } }` });
  ops.push({ label: 'percent out of range', query: PUBLISH, variables: { sessionId: C, event: { progress: { percent: 101 } } } });
  ops.push({ label: 'an oversized event', query: PUBLISH, variables: { sessionId: C, event: { custom: { name: 'big', value: 'v'.repeat(2 * MAX_EVENT_BYTES) } } } });
  ops.push({ label: 'an unsafe startSession id', query: START_SESSION, variables: { sessionId: 'a:b' } });
  ops.push({ label: "ending another user's session", query: 'mutation ($s: ID!) { endSession(sessionId: $s) { id } }', variables: { s: w.untouchedOfOther } });
  ops.push({ label: 'a wrong variable type', query: 'subscription ($s: ID!) { agentProgress(sessionId: $s) { seq } }', variables: { s: { a: 1 } } });
  for (const depth of [500, 3_000, 8_000]) {
    ops.push({ label: `a selection set nested ${depth} deep`, query: `{ session(id: "${C}") ${'{ id '.repeat(depth)}${'}'.repeat(depth + 1)}` });
  }
  ops.push({ label: 'a JSON literal nested 20 000 deep', query: `mutation { submitRequest(sessionId: "${w.scratch}", input: ${'['.repeat(20_000)}${']'.repeat(20_000)}) { id } }` });
  return ops;
}

/**
 * Bad operations on sockets that also carry a healthy subscription (the bystander, following the untouched
 * session): each must fail alone, with a coded error, and leave the socket and the bystander running.
 */
async function runWsOperations(w: World, tally: Tally, ops: WsOperation[]): Promise<void> {
  const groups: WsOperation[][] = [];
  for (let i = 0; i < ops.length; i += 6) groups.push(ops.slice(i, i + 6));
  await pool(groups, 3, async (group) => {
    let ws: RawWs | undefined;
    const open = async () => {
      const socket = await RawWs.connect(w.gw.wsUrl);
      const ack = await socket.init({ userId: w.owner });
      if (isClose(ack)) throw new Error(`the bystander socket was refused: ${JSON.stringify(ack)}`);
      socket.subscribe('bystander', AGENT_PROGRESS, { sessionId: w.untouched });
      const first = await socket.until((m) => m.id === 'bystander', 'the bystander’s first event');
      if (isClose(first) || first.type !== 'next') throw new Error(`the bystander did not start: ${JSON.stringify(first)}`);
      return socket;
    };
    for (const [index, op] of group.entries()) {
      ws ??= await open();
      tally.try('ws-operation');
      const id = `bad-${index}`;
      ws.subscribe(id, op.query, op.variables, op.operationName);
      const answer = await ws.until((m) => m.id === id, `an answer to ${op.label}`);
      if (isClose(answer)) {
        tally.outcome('ws-operation', `close ${answer.code}`);
        tally.collateral.push(`WebSocket ${op.label}: one bad operation closed the socket (${answer.code} "${answer.reason}") and ended the bystander subscription with it`);
        if (answer.code === 4500) tally.internal.push(`WebSocket ${op.label}: closed 4500 "${answer.reason}"`);
        ws = undefined;
      } else if (answer.type === 'error' || (answer.type === 'next' && answer.payload?.errors)) {
        recordWsErrors(tally, 'ws-operation', op.label, answer);
      } else {
        tally.outcome('ws-operation', answer.type === 'next' ? 'accepted' : `${answer.type} without an error`);
        (answer.type === 'next' ? tally.accepted : tally.uncoded).push(`WebSocket ${op.label}: ${JSON.stringify(answer).slice(0, 200)}`);
      }
      if (ws) {
        const pong = await ws.ping();
        if (isClose(pong)) {
          tally.collateral.push(`WebSocket ${op.label}: the socket closed (${pong.code}) after the operation failed`);
          ws = undefined;
        }
      }
      tally.done();
    }
    if (ws) {
      const ended = ws.received.find((m) => m.id === 'bystander' && m.type !== 'next');
      if (ended) tally.collateral.push(`the bystander subscription ended: ${JSON.stringify(ended).slice(0, 200)}`);
      await ws.close();
    }
  });
}

type AbruptKind = 'terminate right after subscribe' | 'terminate after the first event' | 'terminate before the ack' | 'subscribe, complete, terminate' | 'two subscribes, terminate' | 'close right after subscribe';

async function runWsAbrupt(w: World, tally: Tally, rng: Rng, count: number): Promise<void> {
  const kinds: AbruptKind[] = ['terminate right after subscribe', 'terminate after the first event', 'terminate before the ack', 'subscribe, complete, terminate', 'two subscribes, terminate', 'close right after subscribe'];
  const plan = Array.from({ length: count }, (_, i) => ({ kind: i < count / 2 ? kinds[0]! : rng.pick(kinds), target: rng.chance(0.8) ? rng.pick(w.victims) : w.control }));
  await pool(plan, 4, async ({ kind, target }) => {
    tally.try('ws-abrupt');
    const ws = await RawWs.connect(w.gw.wsUrl);
    if (kind === 'terminate before the ack') {
      ws.send({ type: 'connection_init', payload: { userId: w.owner } });
      ws.terminate();
    } else {
      const ack = await ws.init({ userId: w.owner });
      if (isClose(ack)) throw new Error(`abrupt-disconnect socket refused: ${JSON.stringify(ack)}`);
      ws.subscribe('a', AGENT_PROGRESS, { sessionId: target });
      if (kind === 'terminate after the first event') await ws.until((m) => m.id === 'a', 'the first event');
      if (kind === 'subscribe, complete, terminate') ws.send({ id: 'a', type: 'complete' });
      if (kind === 'two subscribes, terminate') ws.subscribe('b', AGENT_PROGRESS, { sessionId: rng.pick(w.victims), after: '1' });
      if (kind === 'close right after subscribe') void ws.close(1000);
      else ws.terminate();
    }
    const closed = await ws.closed;
    tally.outcome('ws-abrupt', `${kind} (${closed.code})`);
    tally.done();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The inputs are generated inside these functions, so that once they return nothing of them is reachable from the
// test: the memory measured afterwards is what the gateway kept.

async function warmUp(w: World, tally: Tally): Promise<{ published: number }> {
  const rng = new Rng(familySeed('warm-up'));
  await runHttp(w, tally, httpCases(w, rng).filter((c, i) => i % 12 === 0 && (typeof c.body !== 'string' || c.body.length < 100_000)));
  const garbage = channelGarbage(rng).filter((message, i) => i % 10 === 0 && message.length < 100_000);
  const redis = await runRedis(w, tally, garbage, fcallCases(w, rng).filter((_, i) => i % 8 === 0));
  await runWsProtocol(w, tally, wsProtocolCases(w, rng).filter((c, i) => i % 8 === 0 && c.label !== 'no connection_init at all'));
  await runWsOperations(w, tally, wsOperations(w, rng).filter((_, i) => i % 8 === 0));
  await runWsAbrupt(w, tally, rng, 8);
  return { published: redis.published };
}

async function storm(w: World, tally: Tally): Promise<{ published: number; uncodedFcall: string[] }> {
  const [, , redis] = await Promise.all([
    runHttp(w, tally, httpCases(w, new Rng(familySeed('http')))),
    runSse(w, tally, new Rng(familySeed('sse'))),
    runRedis(w, tally, channelGarbage(new Rng(familySeed('redis-publish'))), fcallCases(w, new Rng(familySeed('redis-fcall')))),
    runWsProtocol(w, tally, wsProtocolCases(w, new Rng(familySeed('ws-protocol')))),
    runWsOperations(w, tally, wsOperations(w, new Rng(familySeed('ws-operation')))),
    runWsAbrupt(w, tally, new Rng(familySeed('ws-abrupt')), 70),
  ]);
  return redis;
}

async function droppedMetric(gw: TestGateway, source: 'channel' | 'history'): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gw.url))).text();
  const line = new RegExp(`^apg_events_dropped_invalid_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(text);
  return line ? Number(line[1]) : 0;
}

async function history(gw: TestGateway, sessionId: string, userId: string): Promise<Record<string, any>[]> {
  const events: Record<string, any>[] = [];
  for (;;) {
    const page = await graphql(
      gw.url,
      'query ($s: ID!, $after: ID) { agentEvents(sessionId: $s, after: $after, first: 1000) { id seq type agent ephemeral ... on Progress { percent message } ... on Custom { name value } } }',
      { s: sessionId, after: events.at(-1)?.['id'] ?? null },
      userId,
    );
    expect(page.errors).toBeUndefined();
    const batch = page.data!['agentEvents'] as Record<string, any>[];
    events.push(...batch);
    if (batch.length < 1000) return events;
  }
}

const seqTypeMessage = (events: Record<string, any>[]) => events.map((e) => [e['seq'], e['type'], e['message'] ?? e['name'] ?? null, e['ephemeral']]);

describe('bad input', () => {
  it('over a thousand generated bad inputs on HTTP, raw Redis and graphql-ws: coded rejections, and nothing else is affected', async () => {
    const started = Date.now();
    const tag = randomUUID().slice(0, 8);
    const owner = `bi-${tag}-owner`;
    const other = `bi-${tag}-other`;
    const { gw, redis } = await redisGatewayForTest();
    const redisUrl = gw.redisUrl!;

    const startSession = async (userId: string) => {
      const sessionId = `s-${randomUUID()}`;
      expect((await graphql(gw.url, START_SESSION, { sessionId }, userId)).errors).toBeUndefined();
      return sessionId;
    };
    const publish = async (sessionId: string, userId: string, event: Record<string, unknown>) => {
      const result = await graphql(gw.url, PUBLISH, { sessionId, agent: 'control', event }, userId);
      expect(result.errors).toBeUndefined();
      return result.data!['publishAgentEvent'] as { seq: number };
    };
    const w: World = {
      gw,
      redis,
      owner,
      other,
      control: await startSession(owner),
      untouched: await startSession(owner),
      untouchedOfOther: await startSession(other),
      victims: await Promise.all(Array.from({ length: 6 }, () => startSession(owner))),
      scratch: await startSession(owner),
    };
    // The untouched sessions get their own events before the storm, and none after.
    await publish(w.untouched, owner, { progress: { percent: 10, message: 'untouched-1' } });
    await publish(w.untouched, owner, { custom: { name: 'untouched-2', value: { n: 2 } } });
    await publish(w.untouchedOfOther, other, { progress: { percent: 20, message: 'other-1' } });
    const untouchedBefore = await history(gw, w.untouched, owner);
    const untouchedOfOtherBefore = await history(gw, w.untouchedOfOther, other);
    const sessionsBefore = await Promise.all([
      graphql(gw.url, 'query ($id: ID!) { session(id: $id) { id status updatedAt expiresAt } }', { id: w.untouched }, owner),
      graphql(gw.url, 'query ($id: ID!) { session(id: $id) { id status updatedAt expiresAt } }', { id: w.untouchedOfOther }, other),
    ]);

    // Control subscribers: the control session, and each untouched session (which must receive nothing new).
    const followers: [Collected, string][] = [];
    for (const [sessionId, userId] of [[w.control, owner], [w.untouched, owner], [w.untouchedOfOther, other]] as const) {
      const client = wsClient(gw.wsUrl, userId);
      onTestFinished(() => client.dispose());
      const sub = subscribe(client, AGENT_PROGRESS.replace('... on Progress', '... on Custom { name } ... on Progress'), { sessionId });
      followers.push([sub, channelOf(userId, sessionId)]);
    }
    const [[controlSub], [untouchedSub], [untouchedOfOtherSub]] = followers as [[Collected, string], [Collected, string], [Collected, string]];
    await controlSub.count(1);
    await untouchedSub.count(untouchedBefore.length);
    await untouchedOfOtherSub.count(untouchedOfOtherBefore.length);
    const controlChannels = followers.map(([, channel]) => channel).sort();
    const numsub = async (channel: string) => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);
    for (const channel of controlChannels) await expect.poll(() => numsub(channel)).toBe(1);
    const ourChannels = async () => ((await redis.pubsub('CHANNELS', `channel:user_bi-${tag}-*`)) as string[]).sort();
    expect(await ourChannels()).toEqual(controlChannels);

    // Crashes: anything thrown or rejected without a handler while the storm runs.
    const crashes: string[] = [];
    const onCrash = (error: unknown) => crashes.push(String((error as Error)?.stack ?? error).slice(0, 300));
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    onTestFinished(() => {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    });
    // graphql-ws and ws report internal errors with console.error; count them, keep the output short.
    const consoleErrors = new Map<string, number>();
    const consoleSpy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      const first = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' ').split('\n')[0]!.slice(0, 160);
      consoleErrors.set(first, (consoleErrors.get(first) ?? 0) + 1);
    });
    onTestFinished(() => consoleSpy.mockRestore());

    const tally = new Tally();
    const gc = forcedGc();
    const globalGcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';

    // Warm-up: a small storm of every family, so that JIT, connection pools and caches exist before the baseline.
    const warmRedis = await warmUp(w, tally);
    await expect.poll(ourChannels, { timeout: 10_000 }).toEqual(controlChannels);
    const heapBefore = await settledHeapUsed(gc);
    const rssBefore = process.memoryUsage().rss;

    // The storm, with the control session publishing (at most once per finished input) all along.
    let storming = true;
    const controlPublished: { seq: number; message: string }[] = [];
    const controlPublisher = (async () => {
      for (let i = 0; storming; i++) {
        await tally.nextCompletion();
        const message = `control-${i}`;
        const { seq } = await publish(w.control, owner, { progress: { percent: i % 101, message } });
        controlPublished.push({ seq, message });
      }
    })();
    controlPublisher.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    const redisResult = await storm(w, tally);
    storming = false;
    tally.done(); // wakes the publisher so it sees the storm is over
    await controlPublisher;
    const garbagePublished = warmRedis.published + redisResult.published;

    // Quiet again: the control subscriber has everything, the drops are counted, abandoned subscriptions are gone.
    const lastControlSeq = controlPublished.at(-1)?.seq ?? 1;
    await controlSub.until((c) => (c.events.at(-1)?.['seq'] ?? 0) >= lastControlSeq, `control seq ${lastControlSeq}`);
    const droppedLogLines = () => gw.logs.filter((l) => l.msg === 'dropped invalid event' && l['channel'] === channelOf(owner, w.control)).length;
    await expect.poll(droppedLogLines, { timeout: 10_000 }).toBe(garbagePublished);
    let channelsAfter: string[] = [];
    await expect
      .poll(async () => (channelsAfter = await ourChannels()), { timeout: 10_000 })
      .toEqual(controlChannels);
    const heapAfter = await settledHeapUsed(gc);
    const rssAfter = process.memoryUsage().rss;

    // The process is alive: a query answers.
    const alive = await graphql(gw.url, SESSION, { id: w.control }, owner);
    expect(alive).toEqual({ data: { session: { id: w.control, status: 'ACTIVE' } } });
    expect((await fetch(new URL('/health', gw.url))).status).toBe(200);

    const errorLogs = gw.logs.filter((l) => l.level >= 50).map((l) => String(l.msg).split('\n')[0]!.slice(0, 120));
    const counts = {
      seed: SEED,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      tried: tally.total,
      families: tally.summary(),
      rejectedWithoutCode: tally.uncoded.length,
      acceptedBadInputs: tally.accepted.length,
      internalErrors: tally.internal.length,
      collateral: tally.collateral.length,
      crashes: crashes.length,
      controlEventsPublished: controlPublished.length,
      controlEventsReceived: controlSub.events.length - 1,
      channelGarbageDropped: await droppedMetric(gw, 'channel'),
      fcallUncodedReplies: redisResult.uncodedFcall,
      gatewayErrorLogLines: Object.fromEntries(errorLogs.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>())),
      consoleErrors: Object.fromEntries(consoleErrors),
      heap: {
        gc: globalGcExposed ? 'global.gc (--expose-gc)' : 'v8.setFlagsFromString(--expose-gc) + vm gc',
        beforeMiB: +(heapBefore / 2 ** 20).toFixed(1),
        afterMiB: +(heapAfter / 2 ** 20).toFixed(1),
        rssBeforeMiB: +(rssBefore / 2 ** 20).toFixed(1),
        rssAfterMiB: +(rssAfter / 2 ** 20).toFixed(1),
      },
    };
    console.log(`bad-input storm:\n${JSON.stringify(counts, null, 2)}`);
    const details = { uncoded: tally.uncoded, accepted: tally.accepted, internal: tally.internal, collateral: tally.collateral, crashes };
    for (const [name, list] of Object.entries(details)) if (list.length > 0) console.log(`${name} (${list.length}):\n  ${[...new Set(list)].join('\n  ')}`);

    expect(tally.total).toBeGreaterThanOrEqual(1_000);

    // No crash.
    expect(crashes).toEqual([]);
    // Every rejection carried a code (or, for a misbehaving socket, a 4xxx/1xxx close code).
    expect.soft(tally.uncoded, 'rejected without extensions.code').toEqual([]);
    // No bad input was taken for a good one.
    expect.soft(tally.accepted, 'bad inputs accepted').toEqual([]);
    // A code that only masks a crash (INTERNAL_SERVER_ERROR, close 4500) is not a clear error.
    expect.soft(tally.internal, 'bad inputs that reached an internal error').toEqual([]);
    // A bad operation fails alone: it does not close its socket and its other subscriptions.
    expect.soft(tally.collateral, 'bad operations that took their socket down').toEqual([]);

    // The control subscriber received every control event exactly once, in seq order, and nothing else.
    expect(controlPublished.map((p) => p.seq)).toEqual(controlPublished.map((_, i) => i + 2));
    const expectedControl = [[1, 'SESSION_STARTED', null, false], ...controlPublished.map((p) => [p.seq, 'PROGRESS', p.message, false])];
    expect(seqTypeMessage(controlSub.events)).toEqual(expectedControl);
    expect(controlSub.errors).toEqual([]);
    expect(controlSub.outcome).toBeUndefined();
    expect(seqTypeMessage(await history(gw, w.control, owner))).toEqual(expectedControl);

    // No other session was touched.
    expect(await history(gw, w.untouched, owner)).toEqual(untouchedBefore);
    expect(await history(gw, w.untouchedOfOther, other)).toEqual(untouchedOfOtherBefore);
    expect(seqTypeMessage(untouchedSub.events)).toEqual(seqTypeMessage(untouchedBefore));
    expect(seqTypeMessage(untouchedOfOtherSub.events)).toEqual(seqTypeMessage(untouchedOfOtherBefore));
    expect(untouchedSub.outcome).toBeUndefined();
    expect(untouchedOfOtherSub.outcome).toBeUndefined();
    expect(
      await Promise.all([
        graphql(gw.url, 'query ($id: ID!) { session(id: $id) { id status updatedAt expiresAt } }', { id: w.untouched }, owner),
        graphql(gw.url, 'query ($id: ID!) { session(id: $id) { id status updatedAt expiresAt } }', { id: w.untouchedOfOther }, other),
      ]),
    ).toEqual(sessionsBefore);

    // Raw channel garbage: every message dropped, logged once and counted; none reached a client.
    expect(await droppedMetric(gw, 'channel')).toBe(garbagePublished);
    expect(droppedLogLines()).toBe(garbagePublished);
    expect(await droppedMetric(gw, 'history')).toBe(0);
    expect([...controlSub.events, ...untouchedSub.events, ...untouchedOfOtherSub.events].filter((e) => e['ephemeral'])).toEqual([]);
    expect(tally.outcomes.get('redis-publish')?.get('delivered to the gateway')).toBe(garbagePublished);

    // No leaked Redis subscription: the abandoned ones are gone, the control ones remain, once each.
    expect(channelsAfter).toEqual(controlChannels);
    for (const channel of controlChannels) expect(await numsub(channel)).toBe(1);
    for (const victim of w.victims) expect(await numsub(channelOf(owner, victim))).toBe(0);

    // Memory is back near its starting level (heap used after forced GCs).
    expect(heapAfter - heapBefore, `heap grew from ${heapBefore} to ${heapAfter} bytes`).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
  }, 60_000);
});
