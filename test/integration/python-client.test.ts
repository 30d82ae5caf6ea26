/**
 * The Python client (clients/python/agent_progress_gateway), run with python3 against a real gateway on the run's
 * redis-server, its events seen by a graphql-ws subscriber: the publisher, its retries, the ADK mapping and the
 * example worker. The client's own unittest suite (clients/python/tests) runs here too, against a gateway of its own.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { AgentProgressDocument, StartSessionDocument, SubmitRequestDocument } from '../../client/generated/graphql.js';
import { AGENT_VARIANTS } from '../../src/events/variants.js';
import { hs256Key, JWT_SECRET, mintJwt, overHttp, PUBLISH_TOKEN_SECRET, roots } from '../support/auth.js';
import { startedSession, subscribe, wsClientForTest, type Collected } from '../support/clients.js';
import { redisGatewayForTest, startGateway } from '../support/gateway.js';
import { tcpProxyForTest } from '../support/tcp-proxy.js';

const CLIENT_DIR = fileURLToPath(new URL('../../clients/python/', import.meta.url));
const USER = 'alice';
/** A guard against a stuck process, never a way to wait: each run ends by itself within a few seconds. */
const PYTHON_TIMEOUT_MS = 25_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** python3 in clients/python (so `agent_progress_gateway` and `tests` import), without writing __pycache__. */
function python(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      args,
      { cwd: CLIENT_DIR, timeout: PYTHON_TIMEOUT_MS, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Runs a Python program that prints one JSON document; fails the test with its stderr if it does not exit 0. */
async function pythonJson<T>(program: string, ...args: string[]): Promise<T> {
  const run = await python(['-c', program, ...args]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const FOLLOW = print(AgentProgressDocument);
type Received = Record<string, unknown>;

/** A received event without what differs per run (id, timestamp, session, seq) and without its null fields. */
function compact(event: Received): Received {
  return Object.fromEntries(
    Object.entries(event).filter(([name, value]) => value !== null && !['id', 'timestamp', 'sessionId', 'seq', 'ephemeral'].includes(name)),
  );
}

async function followNewSession(gw: { url: string; wsUrl: string }): Promise<{ sessionId: string; sub: Collected<Received> }> {
  const sessionId = await startedSession(gw.url, USER);
  const sub = subscribe<Received>(wsClientForTest(gw.wsUrl, USER), FOLLOW, { sessionId });
  await sub.count(1); // SESSION_STARTED: the subscription is live
  return { sessionId, sub };
}

describe('python client: unittest suite', () => {
  it('passes against a real gateway on Redis (ADK mapping, publisher, batching, coalescing, schema sync, Python 3.10)', async () => {
    const { gw } = await redisGatewayForTest();
    const run = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
      APG_GATEWAY_URL: gw.url,
      APG_REDIS_URL: gw.redisUrl!,
    });
    // unittest reports on stderr: "Ran N tests" and "OK", or every failure with its traceback.
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^OK$/m);
    expect(Number(/^Ran (\d+) tests/m.exec(run.stderr)?.[1])).toBeGreaterThanOrEqual(30);
  });
});

describe('python client: Publisher', () => {
  it('publishes every variant, by its method and in one batch, exactly as a graphql-ws subscriber receives it, in order', async () => {
    const { gw } = await redisGatewayForTest();
    const { sessionId, sub } = await followNewSession(gw);
    const program = `
import json, re, sys
from agent_progress_gateway import Publisher, events
from agent_progress_gateway.events import VARIANTS
url, session = sys.argv[1:3]
SAMPLE = {"ID": lambda n: f"{n}-1", "String": lambda n: f"{n} text", "Int": lambda n: 1200, "Float": lambda n: 12.5,
          "Boolean": lambda n: True, "JSON": lambda n: {n: [1, "two", {"three": None}], "empty": []}}
def sample(field):
    if field.name == "patch":  # a JSON Patch: an array of operations
        return [{"op": "replace", "path": "/x", "value": 1}]
    return SAMPLE[field.graphql_type.rstrip("!")](field.name)
publisher = Publisher(url, session, user_id="alice", request_id="r1", agent="py")
published, batch = [], []
for variant in VARIANTS.values():
    function = re.sub(r"([A-Z])", r"_\\1", variant.input_field).lower()
    kwargs = {field.python_name: sample(field) for field in variant.fields}
    stored = getattr(publisher, function)(**kwargs)  # the method: publishes at once
    fields = {field.name: kwargs[field.python_name] for field in variant.fields}
    published.append({"type": variant.event_type, "agent": "py", "fields": fields, "id": stored["id"], "seq": stored["seq"]})
    batch.append((variant, getattr(events, function)(**kwargs), fields))  # the function: an input for a batch
stored = publisher.bind(agent="py-batch").publish_many([event for _, event, _ in batch])
for (variant, _, fields), event in zip(batch, stored):
    published.append({"type": variant.event_type, "agent": "py-batch", "fields": fields, "id": event["id"], "seq": event["seq"]})
print(json.dumps(published))
`;
    const published = await pythonJson<{ type: string; agent: string; fields: Received; id: string; seq: number }[]>(program, gw.url, sessionId);

    // The Python client covers every variant an agent may publish (src/events/variants.ts), once alone, once batched.
    expect(published.map((event) => event.type)).toEqual([...AGENT_VARIANTS, ...AGENT_VARIANTS].map((variant) => variant.type));
    await sub.count(published.length + 1);
    expect(sub.events.slice(1)).toEqual(
      published.map((event, index) => ({
        id: event.id,
        seq: index + 2,
        type: event.type,
        sessionId,
        requestId: 'r1',
        agent: event.agent,
        timestamp: expect.any(String),
        ephemeral: false,
        ...event.fields,
      })),
    );
    expect(published.map((event) => event.seq)).toEqual(published.map((_, index) => index + 2));
  });

  it('retries a publish whose answer was lost with the same idempotency key: the subscriber gets the event once', async () => {
    const { gw } = await redisGatewayForTest();
    const { sessionId, sub } = await followNewSession(gw);
    const proxy = await tcpProxyForTest(gw.url);
    proxy.dropNextResponse(); // the first publish reaches the gateway and is stored; its answer never arrives
    const program = `
import json, sys
from agent_progress_gateway import Publisher, Retry
url, session = sys.argv[1:3]
class Recording(Publisher):
    keys = []
    def _try(self, body, field):
        Recording.keys.append(json.loads(body)["variables"]["idempotencyKey"])
        return super()._try(body, field)
publisher = Recording(url, session, user_id="alice", request_id="r1", agent="py", retry=Retry(initial_delay=0.05))
once = publisher.progress(50, "stored once")
after = publisher.progress(60, "the next one")
print(json.dumps({"keys": Recording.keys, "once": once, "after": after}))
`;
    const out = await pythonJson<{ keys: string[]; once: Received; after: Received }>(program, `${proxy.url}/graphql`, sessionId);

    expect(proxy.dropped).toBe(1);
    expect(out.keys).toHaveLength(3);
    expect(out.keys[1]).toBe(out.keys[0]); // the retry carried the first try's key…
    expect(out.keys[2]).not.toBe(out.keys[0]); // …and the next publish a key of its own
    await sub.count(3);
    // The next event arrived after the retried one, in order: a duplicate would have arrived before it.
    expect(sub.events.map(compact)).toEqual([
      { type: 'SESSION_STARTED' },
      { type: 'PROGRESS', requestId: 'r1', agent: 'py', percent: 50, message: 'stored once' },
      { type: 'PROGRESS', requestId: 'r1', agent: 'py', percent: 60, message: 'the next one' },
    ]);
    // The retry was answered with the original event.
    expect(out.once).toMatchObject({ id: sub.events[1]!['id'], seq: 2, timestamp: sub.events[1]!['timestamp'] });
    expect(out.after).toMatchObject({ id: sub.events[2]!['id'], seq: 3 });
  });

  it('waits out RATE_LIMITED for extensions.retryAfterMs, and every event is stored once, in order', async () => {
    // One publish at once, then one per 200 ms: four publishes must wait about 600 ms in all.
    const { gw } = await redisGatewayForTest({ publishRatePerSession: 5, publishBurstPerSession: 1 });
    const { sessionId, sub } = await followNewSession(gw);
    const program = `
import json, sys, time
from agent_progress_gateway import Publisher, Retry
url, session = sys.argv[1:3]
class Counting(Publisher):
    tries = 0
    def _try(self, body, field):
        Counting.tries += 1
        return super()._try(body, field)
# Backoff of 1 ms: were retryAfterMs ignored, the publisher would hammer the gateway hundreds of times.
publisher = Counting(url, session, user_id="alice", agent="py", retry=Retry(attempts=50, initial_delay=0.001, max_delay=0.001))
started = time.monotonic()
seqs = [publisher.progress(percent)["seq"] for percent in (10, 20, 30, 40)]
print(json.dumps({"seqs": seqs, "tries": Counting.tries, "seconds": time.monotonic() - started}))
`;
    const out = await pythonJson<{ seqs: number[]; tries: number; seconds: number }>(program, gw.url, sessionId);

    expect(out.seqs).toEqual([2, 3, 4, 5]);
    expect(gw.logs.filter((line) => line.msg === 'publish rate limited').length).toBeGreaterThanOrEqual(3);
    expect(out.tries).toBeLessThanOrEqual(10); // about one refusal per publish: it slept as told
    expect(out.seconds).toBeGreaterThanOrEqual(0.5);
    await sub.count(5);
    expect(sub.events.slice(1).map((event) => [event['seq'], event['percent']])).toEqual([
      [2, 10],
      [3, 20],
      [4, 30],
      [5, 40],
    ]);
  });
});

describe('python client: ADK callbacks', () => {
  // What clients/python/tests/adk_fakes.py's scripted_run must publish: a planner that calls a model, searches and
  // hands over to a writer, whose model call fails, whose tool fails and whose next answer is blocked.
  const EXPECTED = [
    { type: 'AGENT_STARTED', agent: 'planner' },
    { type: 'MODEL_CALL_STARTED', agent: 'planner', model: 'gemini-2.5-flash' },
    { type: 'MODEL_CALL_FINISHED', agent: 'planner', model: 'gemini-2.5-flash', inputTokens: 1200, outputTokens: 350, cost: 0.0026, durationMs: 1200 },
    { type: 'TOOL_CALL_STARTED', agent: 'planner', toolCallId: 'adk-7c1a', toolName: 'web_search', args: { q: 'Lisbon in May' } },
    { type: 'TOOL_CALL_FINISHED', agent: 'planner', toolCallId: 'adk-7c1a', toolName: 'web_search', result: { hits: 3, top: ['a', 'b'] }, durationMs: 300 },
    { type: 'TOOL_CALL_STARTED', agent: 'planner', toolCallId: 'adk-9d2b', toolName: 'transfer_to_agent', args: { agent_name: 'writer' } },
    { type: 'TOOL_CALL_FINISHED', agent: 'planner', toolCallId: 'adk-9d2b', toolName: 'transfer_to_agent', durationMs: 1 },
    { type: 'AGENT_TRANSFERRED', agent: 'planner', fromAgent: 'planner', toAgent: 'writer' },
    { type: 'AGENT_STARTED', agent: 'writer' },
    { type: 'MODEL_CALL_STARTED', agent: 'writer', model: 'gemini-2.5-pro' },
    { type: 'ERROR_REPORTED', agent: 'writer', message: 'ConnectionError: model overloaded', code: 'MODEL_ERROR', retrying: false },
    { type: 'MODEL_CALL_FINISHED', agent: 'writer', model: 'gemini-2.5-pro', durationMs: 500 },
    { type: 'TOOL_CALL_STARTED', agent: 'writer', toolCallId: 'adk-3e4f', toolName: 'read_file', args: { path: 'notes.md' } },
    { type: 'TOOL_CALL_FINISHED', agent: 'writer', toolCallId: 'adk-3e4f', toolName: 'read_file', error: 'FileNotFoundError: notes.md', durationMs: 50 },
    { type: 'MODEL_CALL_STARTED', agent: 'writer', model: 'gemini-2.5-pro' },
    { type: 'MODEL_CALL_FINISHED', agent: 'writer', model: 'gemini-2.5-pro', inputTokens: 90, outputTokens: 0, cost: 0.00009, durationMs: 700 },
    { type: 'ERROR_REPORTED', agent: 'writer', message: 'Blocked for safety', code: 'SAFETY' },
    { type: 'AGENT_FINISHED', agent: 'writer', durationMs: 1260 },
    { type: 'AGENT_FINISHED', agent: 'planner', durationMs: 2761 },
  ].map((event) => ({ ...event, requestId: 'r1' }));

  it.each(['callbacks', 'plugin'])('reports a run driven through the %s, as ADK calls them, to a graphql-ws subscriber', async (form) => {
    const { gw } = await redisGatewayForTest();
    const { sessionId, sub } = await followNewSession(gw);
    const program = `
import asyncio, json, sys
from agent_progress_gateway import Publisher
from agent_progress_gateway.adk import AdkProgress
from tests.adk_fakes import CallbackDriver, FakeClock, PluginDriver, price, scripted_run
url, session, form = sys.argv[1:4]
clock = FakeClock()
progress = AdkProgress(Publisher(url, session, user_id="alice", request_id="r1"), cost=price, clock=clock)
driver = CallbackDriver(progress.callbacks()) if form == "callbacks" else PluginDriver(progress.plugin())
asyncio.run(scripted_run(driver, clock))
print(json.dumps({"sent": progress.flush(10), "failed": progress.publisher.failed}))
`;
    expect(await pythonJson(program, gw.url, sessionId, form)).toEqual({ sent: true, failed: 0 });
    await sub.count(EXPECTED.length + 1);
    expect(sub.events.slice(1).map(compact)).toEqual(EXPECTED);
    expect(sub.events.map((event) => event['seq'])).toEqual(sub.events.map((_, index) => index + 1));
  });
});

describe('python client: example worker', () => {
  it("takes a submitted job from the queue and reports RunStarted … RunFinished with the job's publish token", async () => {
    // Authentication on: the worker has no credential but the publish token inside the job.
    const queue = `queue:python-worker-${randomUUID()}`;
    const gw = await startGateway({
      store: 'redis',
      redisUrl: inject('redisUrl'),
      config: { auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' }, publishTokenSecret: PUBLISH_TOKEN_SECRET, requestQueueKey: queue },
    });
    onTestFinished(() => gw.stop());
    const worker = spawn(
      'python3',
      ['-m', 'agent_progress_gateway.worker_example', '--redis', gw.redisUrl!, '--gateway', gw.url, '--queue', queue, '--pace', '0', '--once'],
      { cwd: CLIENT_DIR, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    onTestFinished(() => {
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
    });

    const token = await mintJwt(hs256Key(JWT_SECRET), { sub: USER });
    const sessionId = `s-${randomUUID()}`;
    expect(roots(await overHttp(gw.url, print(StartSessionDocument), { sessionId }, token))[0]).toMatchObject({ id: sessionId });
    const submitted = roots<{ id: string }>(await overHttp(gw.url, print(SubmitRequestDocument), { sessionId, input: { prompt: 'Plan a trip' } }, token));
    const requestId = submitted[0]!.id;
    const client = createClient({
      url: gw.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
    });
    onTestFinished(() => client.dispose());
    // Following the request: history first, so nothing the worker published before this is missed; completes after RUN_FINISHED.
    const sub = subscribe<Received>(client, FOLLOW, { sessionId, requestId });
    expect(await sub.done, JSON.stringify(sub.errors)).toBe('complete');
    expect(await exited, output).toBe(0);

    const events = sub.events;
    expect(events.every((event) => event['requestId'] === requestId)).toBe(true);
    expect(events.slice(1).every((event) => event['agent'] === 'python-worker')).toBe(true);
    // Text deltas may be merged while a publish is in flight: compare the run with consecutive deltas as one.
    const types = events.map((event) => event['type']).filter((type, index, all) => !(type === 'TEXT_MESSAGE_DELTA' && all[index - 1] === type));
    expect(types).toEqual([
      'REQUEST_QUEUED',
      'RUN_STARTED',
      'STEP_STARTED',
      'PROGRESS',
      'STEP_FINISHED',
      'STEP_STARTED',
      'TOOL_CALL_STARTED',
      'TOOL_CALL_FINISHED',
      'STEP_FINISHED',
      'PROGRESS',
      'TEXT_MESSAGE_STARTED',
      'TEXT_MESSAGE_DELTA',
      'TEXT_MESSAGE_FINISHED',
      'PROGRESS',
      'RUN_FINISHED',
    ]);
    const text = events.filter((event) => event['type'] === 'TEXT_MESSAGE_DELTA').map((event) => event['delta']).join('');
    expect(text).toBe('Here is a plan for: Plan a trip');
    expect(events.at(-1)).toMatchObject({ type: 'RUN_FINISHED', result: { answer: 'Here is a plan for: Plan a trip' }, durationMs: expect.any(Number) });
    expect(events.map((event) => event['seq'])).toEqual(events.map((_, index) => index + 2)); // SESSION_STARTED is seq 1
    expect(output).toMatch(/job finished: session .* \(0 events not published\)/);
  });
});
