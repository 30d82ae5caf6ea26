/**
 * Agents that write straight into Redis: the durable `FCALL apg_publish`, live-only plain PUBLISH, and whatever
 * garbage may appear on a session channel. Redis store only: the memory store has no raw ingress.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { validateEvent } from '../../src/events/validation.js';
import { AGENT_VARIANTS, ENVELOPE_FIELDS, VARIANTS, type FieldDefinition, type FieldSpec, type VariantDefinition } from '../../src/events/variants.js';
import { graphql, subscribe, wsClient, type Collected } from '../support/clients.js';
import { redisGatewayForTest, type TestGateway } from '../support/gateway.js';
import { END_SESSION, SESSION, START_SESSION } from '../support/operations.js';

const USER = 'alice';
const MAX_EVENT_BYTES = DEFAULT_CONFIG.maxEventBytes;
const DROPPED = 'dropped invalid event';

const FOLLOW = /* GraphQL */ `
  subscription ($sessionId: ID!) {
    agentProgress(sessionId: $sessionId) {
      id seq type sessionId requestId agent timestamp ephemeral
      ... on Progress { percent message }
      ... on ToolCallStarted { toolCallId toolName args }
      ... on Custom { name value }
      ... on SessionEnded { reason }
    }
  }
`;

const HISTORY = /* GraphQL */ `
  query ($sessionId: ID!, $first: Int) {
    agentEvents(sessionId: $sessionId, first: $first) {
      id seq type requestId agent timestamp ephemeral
      ... on Progress { percent message }
      ... on ToolCallStarted { toolCallId toolName args }
    }
  }
`;

interface Session {
  gw: TestGateway;
  redis: Redis;
  sessionId: string;
  stream: string;
  channel: string;
  /** `[stream, session]`: the KEYS of `FCALL apg_publish`. */
  keys: [string, string];
}

/** A Redis gateway, an ioredis client and a fresh session owned by USER. */
async function openSession(): Promise<Session> {
  const { gw, redis } = await redisGatewayForTest();
  const sessionId = `s-${randomUUID()}`;
  const started = await graphql(gw.url, START_SESSION, { sessionId }, USER);
  expect(started.errors).toBeUndefined();
  const stream = `stream:user_${USER}:session_${sessionId}`;
  return { gw, redis, sessionId, stream, channel: `channel:user_${USER}:session_${sessionId}`, keys: [stream, `session:${sessionId}`] };
}

function fcall(redis: Redis, keys: readonly string[], json: string): Promise<unknown> {
  return redis.call('FCALL', 'apg_publish', keys.length, ...keys, json);
}

async function subscribers(redis: Redis, channel: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return count;
}

/** A graphql-ws subscriber that has replayed SESSION_STARTED and whose channel Redis knows (PITFALLS #12). */
async function follow(session: Session, expectedSubscribers = 1): Promise<Collected> {
  const client = wsClient(session.gw.wsUrl, USER);
  onTestFinished(() => client.dispose());
  const sub = subscribe(client, FOLLOW, { sessionId: session.sessionId });
  await sub.count(1);
  // One pub/sub connection per gateway, however many of its clients follow the session.
  await expect.poll(() => subscribers(session.redis, session.channel)).toBe(expectedSubscribers);
  return sub;
}

async function history(session: Session) {
  const result = await graphql(session.gw.url, HISTORY, { sessionId: session.sessionId, first: 1000 }, USER);
  expect(result.errors).toBeUndefined();
  return result.data!['agentEvents'] as Record<string, any>[];
}

async function droppedMetric(gw: TestGateway, source: 'channel' | 'history'): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gw.url))).text();
  const line = new RegExp(`^apg_events_dropped_invalid_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(text);
  return line ? Number(line[1]) : 0;
}

function droppedLogLines(session: Session): number {
  return session.gw.logs.filter((line) => line.msg === DROPPED && line['channel'] === session.channel).length;
}

const seqTypeEphemeral = (events: Record<string, any>[]) => events.map((e) => [e['seq'], e['type'], e['ephemeral']]);

describe('durable FCALL apg_publish', () => {
  it('appends, answers [seq, ts], and delivers the event live and from history with every field', async () => {
    const session = await openSession();
    const sub = await follow(session);
    const event = {
      type: 'TOOL_CALL_STARTED',
      requestId: 'r1',
      agent: 'planner',
      toolCallId: 't1',
      toolName: 'web_search',
      args: { q: 'redis streams', limit: 3, tags: ['a', 'b'], nested: { ok: true, none: null } },
    };
    const json = JSON.stringify(event);
    const before = Date.now();
    const reply = await fcall(session.redis, session.keys, json);
    const after = Date.now();

    expect(reply).toEqual([2, expect.any(Number)]);
    const [seq, ts] = reply as [number, number];
    // Redis's clock and ours are the same machine's.
    expect(ts).toBeGreaterThanOrEqual(before - 1000);
    expect(ts).toBeLessThanOrEqual(after + 1000);

    await sub.count(2);
    const expected = {
      id: '2',
      seq,
      type: 'TOOL_CALL_STARTED',
      sessionId: session.sessionId,
      requestId: 'r1',
      agent: 'planner',
      timestamp: new Date(ts).toISOString(),
      ephemeral: false,
      toolCallId: 't1',
      toolName: 'web_search',
      args: event.args,
    };
    expect(sub.events[1]).toEqual(expected);
    expect(sub.errors).toEqual([]);

    const { sessionId: _, ...fromHistory } = expected;
    expect(await history(session)).toEqual([expect.objectContaining({ seq: 1, type: 'SESSION_STARTED', ephemeral: false }), fromHistory]);
    // The JSON is stored as sent, never re-encoded.
    const [[id, fields]] = (await session.redis.xrange(session.stream, '2-0', '2-0')) as [[string, string[]]];
    expect(id).toBe('2-0');
    expect(fields).toEqual(['ts', String(ts), 'e', json]);
  });

  it('numbers events 2, 3, 4 … with no gaps, and a reply matches what the subscriber receives', async () => {
    const session = await openSession();
    const sub = await follow(session);
    const replies = [];
    for (const percent of [10, 20, 30]) replies.push(await fcall(session.redis, session.keys, JSON.stringify({ type: 'PROGRESS', percent })));
    await sub.count(4);
    expect(replies.map((r) => (r as number[])[0])).toEqual([2, 3, 4]);
    expect(sub.events.slice(1).map((e) => [e['seq'], e['percent'], e['timestamp']])).toEqual(
      replies.map((r, i) => [(r as number[])[0], 10 * (i + 1), new Date((r as number[])[1]!).toISOString()]),
    );
  });

  it('accepts null fields as absent, even "seq" and "ts", and still delivers the event live under its real seq', async () => {
    const session = await openSession();
    const sub = await follow(session);
    const reply = await fcall(session.redis, session.keys, '{"type":"PROGRESS","percent":null,"message":"halfway","seq":null,"ts":null,"requestId":null}');
    expect(reply).toEqual([2, expect.any(Number)]);
    await sub.count(2);
    expect(sub.events[1]).toMatchObject({ seq: 2, type: 'PROGRESS', percent: null, message: 'halfway', requestId: null, ephemeral: false });
    expect(await droppedMetric(session.gw, 'channel')).toBe(0);
  });

  it(`accepts an event of exactly MAX_EVENT_BYTES (${MAX_EVENT_BYTES}) and delivers it live`, async () => {
    const session = await openSession();
    const sub = await follow(session);
    const shell = JSON.stringify({ type: 'CUSTOM', name: 'big', value: '' });
    const value = 'x'.repeat(MAX_EVENT_BYTES - Buffer.byteLength(shell));
    const json = JSON.stringify({ type: 'CUSTOM', name: 'big', value });
    expect(Buffer.byteLength(json)).toBe(MAX_EVENT_BYTES);
    expect(await fcall(session.redis, session.keys, json)).toEqual([2, expect.any(Number)]);
    await sub.count(2);
    expect(sub.events[1]).toMatchObject({ seq: 2, type: 'CUSTOM', name: 'big', value });
  });
});

interface Rejection {
  name: string;
  json: string;
  code: 'BAD_USER_INPUT' | 'PAYLOAD_TOO_LARGE' | 'SESSION_NOT_FOUND';
  /** Other KEYS than the session's own (they must stay absent). */
  keys?: (session: Session) => [string, string];
}

const VALID = '{"type":"PROGRESS","percent":5}';
const missingSession = `s-missing-${randomUUID()}`;

const REJECTIONS: Rejection[] = [
  { name: 'invalid JSON', json: '{"type":"PROGRESS","percent":5', code: 'BAD_USER_INPUT' },
  { name: 'NaN', json: '{"type":"PROGRESS","percent":NaN}', code: 'BAD_USER_INPUT' },
  { name: 'Infinity', json: '{"type":"PROGRESS","percent":Infinity}', code: 'BAD_USER_INPUT' },
  { name: 'a hex number', json: '{"type":"PROGRESS","percent":0x10}', code: 'BAD_USER_INPUT' },
  { name: 'a number JSON.parse refuses (1.)', json: '{"type":"PROGRESS","percent":1.}', code: 'BAD_USER_INPUT' },
  { name: 'a raw tab inside a string', json: '{"type":"PROGRESS","message":"a\tb"}', code: 'BAD_USER_INPUT' },
  { name: 'a number beyond a double inside a JSON field', json: '{"type":"CUSTOM","name":"n","value":{"big":[1e999]}}', code: 'BAD_USER_INPUT' },
  { name: 'an unknown type', json: '{"type":"TELEPORTED"}', code: 'BAD_USER_INPUT' },
  { name: 'a gateway-made type (SESSION_ENDED)', json: '{"type":"SESSION_ENDED","reason":"ENDED"}', code: 'BAD_USER_INPUT' },
  { name: 'a missing required field', json: '{"type":"TOOL_CALL_STARTED","toolName":"web_search"}', code: 'BAD_USER_INPUT' },
  { name: 'an unknown field', json: '{"type":"PROGRESS","percent":5,"colour":"red"}', code: 'BAD_USER_INPUT' },
  { name: 'percent 101', json: '{"type":"PROGRESS","percent":101}', code: 'BAD_USER_INPUT' },
  { name: 'an unsafe toolCallId ("a:b")', json: '{"type":"TOOL_CALL_STARTED","toolCallId":"a:b","toolName":"web_search"}', code: 'BAD_USER_INPUT' },
  {
    name: `an otherwise valid payload over MAX_EVENT_BYTES (${MAX_EVENT_BYTES})`,
    json: JSON.stringify({ type: 'CUSTOM', name: 'big', value: 'x'.repeat(MAX_EVENT_BYTES) }),
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    // 'é' is two bytes in UTF-8: under the limit in characters, over it in bytes.
    name: 'a payload over MAX_EVENT_BYTES in bytes but not in characters',
    json: JSON.stringify({ type: 'CUSTOM', name: 'big', value: 'é'.repeat(MAX_EVENT_BYTES / 2) }),
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a session that does not exist',
    json: VALID,
    code: 'SESSION_NOT_FOUND',
    keys: () => [`stream:user_${USER}:session_${missingSession}`, `session:${missingSession}`],
  },
  {
    name: 'a stream key naming the wrong user for an existing session',
    json: VALID,
    code: 'SESSION_NOT_FOUND',
    keys: (session) => [`stream:user_mallory:session_${session.sessionId}`, session.keys[1]],
  },
];

describe('idempotency keys and batches on the raw path', () => {
  const progress = (percent: number) => JSON.stringify({ type: 'PROGRESS', percent });

  it('answers a retried FCALL apg_publish with the same key with the original [seq, ts], appending nothing', async () => {
    const session = await openSession();
    const sub = await follow(session);
    const first = await session.redis.call('FCALL', 'apg_publish', 2, ...session.keys, progress(10), 'agent-7:step-3');
    const retry = await session.redis.call('FCALL', 'apg_publish', 2, ...session.keys, progress(10), 'agent-7:step-3');
    expect(retry).toEqual(first);
    await expect(session.redis.call('FCALL', 'apg_publish', 2, ...session.keys, progress(11), 'agent-7:step-3')).rejects.toThrow(
      /^IDEMPOTENCY_KEY_REUSED /,
    );
    await expect(session.redis.call('FCALL', 'apg_publish', 2, ...session.keys, progress(11), 'no spaces')).rejects.toThrow(/^BAD_USER_INPUT /);
    const next = (await fcall(session.redis, session.keys, progress(20))) as number[];
    expect(next[0]).toBe(3);
    await sub.count(3);
    expect(sub.events.map((e) => [e['seq'], e['percent']])).toEqual([[1, undefined], [2, 10], [3, 20]]);
  });

  it('appends FCALL apg_publish_batch atomically with consecutive seqs, delivered in order, retry-safe', async () => {
    const session = await openSession();
    const sub = await follow(session);
    const batch = [progress(1), progress(2), progress(3)];
    const reply = (await session.redis.call('FCALL', 'apg_publish_batch', 2, ...session.keys, 'burst-1', ...batch)) as number[];
    expect(reply).toEqual([2, expect.any(Number)]);
    expect(await session.redis.call('FCALL', 'apg_publish_batch', 2, ...session.keys, 'burst-1', ...batch)).toEqual(reply);
    // One invalid event refuses the whole batch, naming it.
    await expect(session.redis.call('FCALL', 'apg_publish_batch', 2, ...session.keys, '', progress(4), '{"type":"PROGRESS","percent":101}')).rejects.toThrow(
      /^BAD_USER_INPUT events\[1\]: percent/,
    );
    expect(await session.redis.call('FCALL', 'apg_publish_batch', 2, ...session.keys, '', progress(5))).toEqual([5, expect.any(Number)]);
    await sub.count(5);
    expect(sub.events.map((e) => [e['seq'], e['percent'], e['timestamp']])).toEqual([
      [1, undefined, expect.any(String)],
      ...[1, 2, 3].map((percent, i) => [2 + i, percent, new Date(reply[1]!).toISOString()]),
      [5, 5, expect.any(String)],
    ]);
  });
});

describe('FCALL apg_publish rejections', () => {
  it.each(REJECTIONS)('refuses $name with $code and appends nothing', async ({ json, code, keys }) => {
    const session = await openSession();
    const sub = await follow(session);
    const length = await session.redis.xlen(session.stream);
    const target = keys?.(session) ?? session.keys;

    await expect(fcall(session.redis, target, json)).rejects.toThrow(new RegExp(`^${code} `));

    expect(await session.redis.xlen(session.stream)).toBe(length);
    if (keys) expect(await session.redis.exists(target[0])).toBe(0);
    // The next valid event takes the very next seq and is the first thing the subscriber receives after
    // SESSION_STARTED: the refused one consumed no seq and was never published.
    expect(await fcall(session.redis, session.keys, VALID)).toEqual([length + 1, expect.any(Number)]);
    await sub.count(2);
    expect(seqTypeEphemeral(sub.events)).toEqual([
      [1, 'SESSION_STARTED', false],
      [2, 'PROGRESS', false],
    ]);
  });
});

describe("the session record's seq and TTL renewal", () => {
  const progress = (percent: number) => JSON.stringify({ type: 'PROGRESS', percent });
  const seqs = (sub: Collected) => sub.events.map((e) => e['seq']);

  it('takes the next seq from the stream when the record has none (a session an older library started)', async () => {
    const session = await openSession();
    const sub = await follow(session);
    await session.redis.hdel(session.keys[1], 'seq');
    expect(await fcall(session.redis, session.keys, progress(1))).toEqual([2, expect.any(Number)]);
    expect(await session.redis.hget(session.keys[1], 'seq')).toBe('2');
    expect(await fcall(session.redis, session.keys, progress(2))).toEqual([3, expect.any(Number)]);
    await sub.count(3);
    expect(seqs(sub)).toEqual([1, 2, 3]);
  });

  it("takes the next seq from the stream when the record's is behind it (an older library appended)", async () => {
    const session = await openSession();
    const sub = await follow(session);
    await fcall(session.redis, session.keys, progress(1));
    await fcall(session.redis, session.keys, progress(2));
    await session.redis.hset(session.keys[1], 'seq', 1);
    expect(await fcall(session.redis, session.keys, progress(3))).toEqual([4, expect.any(Number)]);
    await sub.count(4);
    expect(seqs(sub)).toEqual([1, 2, 3, 4]);
    expect((await history(session)).map((e) => e['seq'])).toEqual([1, 2, 3, 4]);
  });

  it('answers SESSION_NOT_FOUND when the stream is gone though the record is not, and makes no stream', async () => {
    const session = await openSession();
    await session.redis.del(session.stream);
    await expect(fcall(session.redis, session.keys, progress(1))).rejects.toThrow(/^SESSION_NOT_FOUND /);
    await expect(session.redis.call('FCALL', 'apg_publish_batch', 2, ...session.keys, '', progress(1), progress(2))).rejects.toThrow(
      /^SESSION_NOT_FOUND /,
    );
    expect(await session.redis.exists(session.stream)).toBe(0);
  });

  it('renews both keys\' TTL on a publish at most once a second, and on the first publish after that', async () => {
    const session = await openSession();
    const pttls = () => Promise.all(session.keys.map((key) => session.redis.pttl(key)));
    const shortMs = 60_000;
    // One transaction: the second publish comes microseconds after the first, well within the renewal interval.
    await session.redis
      .multi()
      .call('FCALL', 'apg_publish', 2, ...session.keys, progress(1))
      .pexpire(session.keys[0], shortMs)
      .pexpire(session.keys[1], shortMs)
      .call('FCALL', 'apg_publish', 2, ...session.keys, progress(2))
      .exec();
    for (const pttl of await pttls()) expect(pttl).toBeLessThanOrEqual(shortMs);
    // A renewal long ago: the next publish renews both keys to the full TTL.
    await session.redis.hset(session.keys[1], 'renewedAt', 0);
    expect(await fcall(session.redis, session.keys, progress(3))).toEqual([4, expect.any(Number)]);
    for (const pttl of await pttls()) expect(pttl).toBeGreaterThan(shortMs);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Agreement between the Lua validator inside Redis and the zod one, on a corpus generated from the variant table.

const GOOD_VALUE: Record<FieldSpec['kind'], unknown> = {
  id: 'id_1-A',
  text: 'some text',
  int: 42,
  number: 12.5,
  percent: 99.5,
  boolean: false,
  json: { nested: [1, 'two', null, { deep: true }], empty: {}, list: [] },
  jsonArray: [{ op: 'replace', path: '/a', value: 1 }],
};

function badValues({ spec, required }: FieldDefinition): unknown[] {
  switch (spec.kind) {
    case 'id':
      return ['a:b', '', 'x'.repeat(129), 7];
    case 'text':
      return [42, 'x'.repeat(spec.max + 1), ...(required ? [''] : [])];
    case 'int':
      return [1.5, -1, 2_147_483_648, '3'];
    case 'number':
      return [-0.5, '1'];
    case 'percent':
      return [101, -0.1];
    case 'boolean':
      return ['true', 1];
    case 'json':
      return []; // any JSON value is valid (non-finite numbers are covered by hand below)
    case 'jsonArray':
      // Not `[]`: see KNOWN DIVERGENCES below.
      return [{ op: 'add' }, 'x'];
  }
}

function fieldsOf(variant: VariantDefinition): Record<string, FieldDefinition> {
  return { ...ENVELOPE_FIELDS, ...variant.fields };
}

/** Every field set, with a good value. */
function fullEvent(variant: VariantDefinition): Record<string, unknown> {
  return { type: variant.type, ...Object.fromEntries(Object.entries(fieldsOf(variant)).map(([name, f]) => [name, GOOD_VALUE[f.spec.kind]])) };
}

function generatedCorpus(): string[] {
  const corpus: string[] = [];
  // Valid: every agent variant with every field. Invalid: every gateway-made variant.
  for (const variant of VARIANTS) corpus.push(JSON.stringify(fullEvent(variant)));
  // Invalid: each bad value of each field of one variant per field kind (plus the envelope's own fields).
  const seen = new Set<string>();
  for (const variant of AGENT_VARIANTS) {
    for (const [name, field] of Object.entries(fieldsOf(variant))) {
      const kind = `${field.spec.kind}/${Boolean(field.required)}`;
      if (seen.has(kind)) continue;
      seen.add(kind);
      for (const bad of badValues(field)) corpus.push(JSON.stringify({ ...fullEvent(variant), [name]: bad }));
    }
  }
  // Invalid: every agent variant without its first required field.
  for (const variant of AGENT_VARIANTS) {
    const required = Object.entries(variant.fields).find(([, field]) => field.required)?.[0];
    if (!required) continue;
    const { [required]: _, ...rest } = fullEvent(variant);
    corpus.push(JSON.stringify(rest));
  }
  return corpus;
}

/** Text-level edge cases no generator makes. Same-verdict expected for each. */
const HANDWRITTEN = [
  // Valid in both.
  '{"type":"PROGRESS","percent":null,"message":null,"requestId":null,"agent":null}',
  '{"type":"PROGRESS","notAField":null}',
  '{"type":"PROGRESS","seq":null,"ts":null}',
  '{"type":"PROGRESS","percent":50,"percent":60}',
  '{"type":"SESSION_ENDED","type":"PROGRESS"}',
  '{"type":"PROGRESS","percent":1E2}',
  '{"type":"PROGRESS","percent":-0}',
  '{"type":"RUN_FINISHED","inputTokens":5.0,"cost":0.5e-3}',
  ' \n {"type":"PROGRESS"} \t\n',
  '{"type":"CUSTOM","name":"esc","value":"tab\\t quote\\" backslash\\\\ nul\\u0000 \\ud83d\\ude00"}',
  '{"type":"CUSTOM","name":"big-but-finite","value":[1e308,-1e-400,123456789012345678901234567890]}',
  '{\n  "type": "PROGRESS",\n\t"message": "pretty, with \\n escaped"\r\n}',
  '{"type":"CUSTOM","name":"numbers-in-text","value":"1. -.5 1e999 NaN"}',
  `{"type":"CUSTOM","name":"long-but-finite","value":1${'0'.repeat(249)}}`,
  // Invalid in both.
  '{"type":"PROGRESS","type":"SESSION_ENDED"}',
  '{"type":"PROGRESS","percent":NaN}',
  '{"type":"PROGRESS","percent":-Infinity}',
  '{"type":"PROGRESS","percent":0x10}',
  '{"type":"PROGRESS","percent":1.}',
  '{"type":"RUN_FINISHED","cost":1.e3}',
  '{"type":"PROGRESS","percent":01}',
  '{"type":"PROGRESS","message":"raw\ttab"}',
  '{"type":"PROGRESS","message":"raw\nnewline"}',
  '{"type":"PROGRESS","message":"raw\u001funit separator"}',
  '{"type":"CUSTOM","name":"x","value":-.5}',
  `{"type":"CUSTOM","name":"x","value":${'9'.repeat(309)}}`,
  '{"type":"CUSTOM","name":"x","value":1e999}',
  // Beyond a double with an exponent under 100: 215 digits before the point.
  `{"type":"CUSTOM","name":"x","value":1${'0'.repeat(214)}e99}`,
  '{"type":"RUN_FINISHED","durationMs":1e999}',
  '{"type":"PROGRESS","__proto__":{"percent":5}}',
  '{"type":"PROGRESS",}',
  "{'type':'PROGRESS'}",
  '{"type":"PROGRESS"',
  '[{"type":"PROGRESS"}]',
  '"PROGRESS"',
  '42',
  'null',
  '{}',
  '{"type":7}',
  '{"percent":5}',
  '{"type":"progress"}',
];
// KNOWN DIVERGENCES, left out on purpose (reported, not fixed here):
// - `{"type":"STATE_DELTA","patch":[]}`: zod accepts an empty array; Lua cannot tell `[]` from `{}` after
//   cjson.decode and refuses both.
// - `"\ud800"` (a lone surrogate escape): JSON.parse accepts it, cjson refuses it.
// - Text limits count UTF-16 code units in zod and bytes in Lua (documented in variants.ts): a 200-character name
//   of 'é' passes zod and fails Lua.

function zodVerdict(json: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return false;
  }
  return validateEvent(value).ok;
}

describe('agreement between FCALL apg_publish and validateEvent', () => {
  it('gives the same accept/reject verdict on a corpus generated from the variant table, and every accepted event reads back', async () => {
    const corpus = [...generatedCorpus(), ...HANDWRITTEN];
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    const session = await openSession();
    const sub = await follow(session);

    const disagreements: { json: string; lua: string; zod: boolean }[] = [];
    let accepted = 0;
    for (const json of corpus) {
      expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      let lua: string;
      try {
        const [seq] = (await fcall(session.redis, session.keys, json)) as [number, number];
        accepted += 1;
        expect(seq).toBe(1 + accepted);
        lua = 'accepted';
      } catch (error) {
        lua = (error as Error).message;
        expect(lua).toMatch(/^BAD_USER_INPUT /);
      }
      if ((lua === 'accepted') !== zodVerdict(json)) disagreements.push({ json, lua, zod: zodVerdict(json) });
    }
    expect(disagreements).toEqual([]);
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(corpus.length - accepted).toBeGreaterThanOrEqual(20);

    // What Lua accepted, the gateway reads back on both paths: nothing dropped, no seq missing.
    const lastSeq = 1 + accepted;
    await sub.until((c) => c.events.at(-1)?.['seq'] === lastSeq, `seq ${lastSeq}`);
    expect(sub.events.map((e) => e['seq'])).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(sub.errors).toEqual([]);
    expect((await history(session)).map((e) => e['seq'])).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(await droppedMetric(session.gw, 'channel')).toBe(0);
    expect(await droppedMetric(session.gw, 'history')).toBe(0);
  });
});

describe('live-only plain PUBLISH', () => {
  it('is delivered with ephemeral: true and the seq of the last durable event, and is never in the history', async () => {
    const session = await openSession();
    const sub = await follow(session);
    await fcall(session.redis, session.keys, '{"type":"PROGRESS","percent":10}');
    await sub.count(2);
    const length = await session.redis.xlen(session.stream);

    const receivers = await session.redis.publish(session.channel, '{"type":"PROGRESS","percent":42,"message":"thinking","requestId":"r1","agent":"writer"}');
    expect(receivers).toBe(1);
    await sub.count(3);
    expect(sub.events[2]).toMatchObject({ id: '2', seq: 2, type: 'PROGRESS', percent: 42, message: 'thinking', requestId: 'r1', agent: 'writer', ephemeral: true });

    // It took no seq and left no trace in Redis or in the history.
    expect(await session.redis.xlen(session.stream)).toBe(length);
    expect(await fcall(session.redis, session.keys, '{"type":"PROGRESS","percent":20}')).toEqual([3, expect.any(Number)]);
    await sub.count(4);
    expect(seqTypeEphemeral(sub.events)).toEqual([
      [1, 'SESSION_STARTED', false],
      [2, 'PROGRESS', false],
      [2, 'PROGRESS', true],
      [3, 'PROGRESS', false],
    ]);
    expect((await history(session)).map((e) => [e['seq'], e['percent'] ?? null, e['ephemeral']])).toEqual([
      [1, null, false],
      [2, 10, false],
      [3, 20, false],
    ]);

    // A subscriber that joins later replays the history only.
    const late = await follow(session);
    await late.until((c) => c.events.at(-1)?.['seq'] === 3, 'seq 3');
    expect(seqTypeEphemeral(late.events)).toEqual([
      [1, 'SESSION_STARTED', false],
      [2, 'PROGRESS', false],
      [3, 'PROGRESS', false],
    ]);
  });
});

const TWO_MB_JSON = JSON.stringify({ type: 'PROGRESS', message: 'x'.repeat(2 * 1024 * 1024) });

const GARBAGE: [name: string, message: string][] = [
  ['non-JSON', 'not json {'],
  ['a JSON array', '[{"type":"PROGRESS","percent":5}]'],
  ['a number', '42'],
  ['valid JSON of the wrong shape', '{"hello":"world","percent":5}'],
  ['an unknown type', '{"type":"TELEPORTED","percent":5}'],
  ['a forged durable message with a bad seq', '{"$seq":-3,"$ts":1,"type":"PROGRESS","percent":5}'],
  ['a copy of a received event, seq and all', '{"seq":3,"ts":1,"type":"PROGRESS","percent":5}'],
  ['a gateway-made type via plain PUBLISH', '{"type":"SESSION_ENDED","reason":"ENDED"}'],
  ['a 2 MB string', TWO_MB_JSON],
  ['an empty message', ''],
  ['a live-only event under the limit in characters but over it in bytes', JSON.stringify({ type: 'CUSTOM', name: 'wide', value: '€'.repeat(30_000) })],
];

describe('garbage on a session channel', () => {
  it.each(GARBAGE)('drops %s: logged once, counted, the process and the subscription go on', async (_name, garbage) => {
    const session = await openSession();
    const sub = await follow(session);

    expect(await session.redis.publish(session.channel, garbage)).toBe(1);
    await fcall(session.redis, session.keys, VALID);
    await sub.count(2);

    expect(seqTypeEphemeral(sub.events)).toEqual([
      [1, 'SESSION_STARTED', false],
      [2, 'PROGRESS', false],
    ]);
    expect(sub.errors).toEqual([]);
    expect(sub.outcome).toBeUndefined();
    await expect.poll(() => droppedLogLines(session)).toBe(1);
    expect(await droppedMetric(session.gw, 'channel')).toBe(1);
    const alive = await graphql(session.gw.url, SESSION, { id: session.sessionId }, USER);
    expect(alive).toEqual({ data: { session: { id: session.sessionId, status: 'ACTIVE' } } });
  });

  it('drops every kind in a row, once per message however many clients follow, and delivers the valid events between them in order', async () => {
    const session = await openSession();
    const first = await follow(session);
    const second = await follow(session);

    for (const [index, [, garbage]] of GARBAGE.entries()) {
      await session.redis.publish(session.channel, garbage);
      if (index % 2 === 0) await fcall(session.redis, session.keys, JSON.stringify({ type: 'PROGRESS', percent: index }));
      else await session.redis.publish(session.channel, JSON.stringify({ type: 'PROGRESS', percent: index }));
    }
    await fcall(session.redis, session.keys, '{"type":"PROGRESS","percent":100}');

    // Even indexes went the durable way (next seq), odd ones live-only (repeating the last seq).
    let seq = 1;
    const expected: [number, number | null, boolean][] = [[1, null, false]];
    for (let index = 0; index < GARBAGE.length; index++) {
      if (index % 2 === 0) seq++;
      expected.push([seq, index, index % 2 === 1]);
    }
    expected.push([seq + 1, 100, false]);
    for (const sub of [first, second]) {
      await sub.count(expected.length);
      expect(sub.events.map((e) => [e['seq'], e['percent'] ?? null, e['ephemeral']])).toEqual(expected);
      expect(sub.errors).toEqual([]);
    }
    await expect.poll(() => droppedLogLines(session)).toBe(GARBAGE.length);
    expect(await droppedMetric(session.gw, 'channel')).toBe(GARBAGE.length);
    expect(await droppedMetric(session.gw, 'history')).toBe(0);
  });
});

describe('endSession', () => {
  it('leaves no Redis key naming the session, and a later FCALL creates none', async () => {
    const session = await openSession();
    const sub = await follow(session);
    await fcall(session.redis, session.keys, VALID);
    await session.redis.publish(session.channel, '{"type":"PROGRESS","percent":6}');
    await sub.count(3);
    const keysOfSession = async () => {
      const found: string[] = [];
      for await (const batch of session.redis.scanStream({ match: `*${session.sessionId}*`, count: 1000 })) found.push(...(batch as string[]));
      return found.sort();
    };
    expect(await keysOfSession()).toEqual([session.keys[1], session.stream].sort());

    const ended = await graphql(session.gw.url, END_SESSION, { sessionId: session.sessionId }, USER);
    expect(ended.errors).toBeUndefined();
    expect(await sub.done).toBe('complete');
    expect(sub.events.at(-1)).toMatchObject({ seq: 3, type: 'SESSION_ENDED', reason: 'ENDED' });

    expect(await keysOfSession()).toEqual([]);
    await expect(fcall(session.redis, session.keys, VALID)).rejects.toThrow(/^SESSION_NOT_FOUND /);
    expect(await keysOfSession()).toEqual([]);
    // The gateway let go of the channel once its last subscriber completed.
    await expect.poll(() => subscribers(session.redis, session.channel)).toBe(0);
  });
});
