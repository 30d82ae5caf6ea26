/** examples/python/publish_durable.py, run with python3 against the test Redis, seen by a graphql-ws subscriber. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { graphql, subscribe, wsClient } from '../support/clients.js';
import { redisGatewayForTest } from '../support/gateway.js';
import { START_SESSION } from '../support/operations.js';

const SCRIPT = fileURLToPath(new URL('../../examples/python/publish_durable.py', import.meta.url));
const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/python/', import.meta.url));
const USER = 'alice';

const FOLLOW = /* GraphQL */ `
  subscription ($sessionId: ID!) {
    agentProgress(sessionId: $sessionId) {
      seq type requestId agent timestamp ephemeral
      ... on Progress { percent message }
      ... on ToolCallStarted { toolCallId toolName args }
    }
  }
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function python(args: string[], cwd?: string): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)('python3', args, { cwd, timeout: 20_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function followNewSession() {
  const { gw, redis } = await redisGatewayForTest();
  const sessionId = `s-${randomUUID()}`;
  expect((await graphql(gw.url, START_SESSION, { sessionId }, USER)).errors).toBeUndefined();
  const client = wsClient(gw.wsUrl, USER);
  onTestFinished(() => client.dispose());
  const sub = subscribe(client, FOLLOW, { sessionId });
  await sub.count(1);
  const channel = `channel:user_${USER}:session_${sessionId}`;
  await expect.poll(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]).toBe(1);
  return { redisUrl: gw.redisUrl!, redis, sessionId, sub, stream: `stream:user_${USER}:session_${sessionId}` };
}

describe('python publish_durable.py', () => {
  it('publishes durably from the command line: the subscriber receives the event with the seq and ts it printed', async () => {
    const { redisUrl, sessionId, sub } = await followNewSession();
    const event = { type: 'PROGRESS', percent: 50, message: 'héllo from python', requestId: 'r1', agent: 'py' };
    const run = await python([SCRIPT, '--redis', redisUrl, '--user', USER, '--session', sessionId, JSON.stringify(event)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(run.stdout) as { seq: number; ts: number };
    expect(printed).toEqual({ seq: 2, ts: expect.any(Number) });

    await sub.count(2);
    expect(sub.events[1]).toEqual({
      seq: 2,
      type: 'PROGRESS',
      requestId: 'r1',
      agent: 'py',
      timestamp: new Date(printed.ts).toISOString(),
      ephemeral: false,
      percent: 50,
      message: 'héllo from python',
    });
  });

  it('exposes publish() to Python code, returning (seq, ts) and raising GatewayError with the code', async () => {
    const { redisUrl, redis, sessionId, sub, stream } = await followNewSession();
    const program = `
import json, sys
from publish_durable import GatewayError, publish
url, user, session = sys.argv[1:4]
out = {"ok": publish(url, user, session, {"type": "TOOL_CALL_STARTED", "toolCallId": "t1", "toolName": "search", "args": {"q": "x", "n": [1, None]}})}
for name, event in [("unknown", {"type": "NOPE"}), ("big", {"type": "CUSTOM", "name": "big", "value": "x" * 70000})]:
    try:
        publish(url, user, session, event)
    except GatewayError as error:
        out[name] = error.code
try:
    publish(url, user, "missing-session", {"type": "PROGRESS"})
except GatewayError as error:
    out["missing"] = error.code
print(json.dumps(out))
`;
    const run = await python(['-c', program, redisUrl, USER, sessionId], EXAMPLE_DIR);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      ok: [2, expect.any(Number)],
      unknown: 'BAD_USER_INPUT',
      big: 'PAYLOAD_TOO_LARGE',
      missing: 'SESSION_NOT_FOUND',
    });
    await sub.count(2);
    expect(sub.events[1]).toMatchObject({ seq: 2, type: 'TOOL_CALL_STARTED', toolCallId: 't1', toolName: 'search', args: { q: 'x', n: [1, null] } });
    expect(await redis.xlen(stream)).toBe(2);
  });

  it('exits 1 with the error code on stderr when the gateway refuses the event, and 2 on JSON it cannot send', async () => {
    const { redisUrl, redis, sessionId, stream } = await followNewSession();
    const refused = await python([SCRIPT, '--redis', redisUrl, '--user', USER, '--session', sessionId, '{"type":"PROGRESS","percent":101}']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refused: BAD_USER_INPUT /);
    const nan = await python([SCRIPT, '--redis', redisUrl, '--user', USER, '--session', sessionId, '{"type":"PROGRESS","percent":NaN}']);
    expect(nan.code).toBe(2);
    expect(await redis.xlen(stream)).toBe(1);
  });
});
