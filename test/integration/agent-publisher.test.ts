/** The TypeScript agent publisher (`agent-progress-gateway/agent`) against a gateway on real Redis. */
import { describe, expect, it } from 'vitest';
import { AgentPublishError, createAgentPublisher, type AgentPublisherOptions } from '../../src/agent/index.js';
import { AGENT_VARIANTS } from '../../src/events/variants.js';
import { graphql, subscribe, wsClientForTest } from '../support/clients.js';
import { redisGatewayForTest, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS } from '../support/operations.js';
import { tcpProxyForTest } from '../support/tcp-proxy.js';

const START_WITH_TOKEN = /* GraphQL */ `
  mutation ($sessionId: ID) { startSession(sessionId: $sessionId) { id publishToken { token } } }
`;
const HISTORY = /* GraphQL */ `
  query ($sessionId: ID!) {
    agentEvents(sessionId: $sessionId, first: 500) {
      seq type requestId agent
      ... on Progress { percent message }
      ... on TextMessageDelta { messageId delta }
      ... on ToolCallStarted { toolCallId toolName args }
    }
  }
`;

/** A session owned by alice and the session-scoped publish token an agent would be handed. */
async function sessionWithToken(gw: TestGateway): Promise<{ sessionId: string; token: string }> {
  const started = await graphql(gw.url, START_WITH_TOKEN, { sessionId: `s-${crypto.randomUUID()}` });
  expect(started.errors).toBeUndefined();
  return { sessionId: started.data!['startSession'].id, token: started.data!['startSession'].publishToken.token };
}

async function history(gw: TestGateway, sessionId: string): Promise<Record<string, any>[]> {
  const page = await graphql(gw.url, HISTORY, { sessionId });
  expect(page.errors).toBeUndefined();
  return (page.data!['agentEvents'] as Record<string, any>[]).slice(1);
}

/** A fetch that counts the calls it makes (how many HTTP requests the publisher needed). */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls++;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

async function publisherFor(gw: TestGateway, options: Partial<AgentPublisherOptions> = {}) {
  const { sessionId, token } = await sessionWithToken(gw);
  const counter = countingFetch();
  const publisher = createAgentPublisher({ url: gw.url, token, sessionId, requestId: 'r1', agent: 'researcher', fetch: counter.fetch, ...options });
  return { publisher, sessionId, calls: counter.calls };
}

describe('agent publisher', () => {
  it('has a typed method per agent variant, each publishing that variant with the envelope, in order', async () => {
    const { gw } = await redisGatewayForTest();
    const { publisher, sessionId } = await publisherFor(gw);
    const sub = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
    await sub.count(1);
    for (const { inputField } of AGENT_VARIANTS) expect(typeof publisher[inputField as keyof typeof publisher], inputField).toBe('function');

    const started = await publisher.runStarted({ message: 'Working on it' });
    const tool = await publisher.toolCallStarted({ toolCallId: 't1', toolName: 'web_search', args: { q: 'redis streams' } });
    const progress = await publisher.progress({ percent: 40, message: 'Searching' });
    await publisher.runFinished({ result: { answer: 42 }, inputTokens: 10, outputTokens: 20 });

    expect([started.seq, tool.seq, progress.seq]).toEqual([2, 3, 4]);
    expect(progress).toMatchObject({ type: 'PROGRESS', requestId: 'r1', agent: 'researcher' });
    await sub.count(5);
    expect(sub.events.slice(1).map((e) => [e['seq'], e['type'], e['requestId'], e['agent']])).toEqual([
      [2, 'RUN_STARTED', 'r1', 'researcher'],
      [3, 'TOOL_CALL_STARTED', 'r1', 'researcher'],
      [4, 'PROGRESS', 'r1', 'researcher'],
      [5, 'RUN_FINISHED', 'r1', 'researcher'],
    ]);
    expect((await history(gw, sessionId))[1]).toMatchObject({ toolName: 'web_search', args: { q: 'redis streams' } });
  });

  it('coalesces rapid text deltas of one message into fewer publishes, keeping the text whole and in order', async () => {
    const { gw } = await redisGatewayForTest();
    const { publisher, sessionId, calls } = await publisherFor(gw);
    const tokens = Array.from({ length: 200 }, (_, i) => `tok${i} `);
    await publisher.textMessageStarted({ messageId: 'm1', role: 'assistant' });
    const deltas = await Promise.all(tokens.map((delta) => publisher.textMessageDelta({ messageId: 'm1', delta })));
    await publisher.textMessageFinished({ messageId: 'm1' });

    const logged = await history(gw, sessionId);
    const loggedDeltas = logged.filter((e) => e['type'] === 'TEXT_MESSAGE_DELTA');
    expect(loggedDeltas.length).toBeLessThan(tokens.length / 10);
    expect(loggedDeltas.map((e) => e['delta']).join('')).toBe(tokens.join(''));
    expect(logged.map((e) => e['type'])).toEqual(['TEXT_MESSAGE_STARTED', ...loggedDeltas.map(() => 'TEXT_MESSAGE_DELTA'), 'TEXT_MESSAGE_FINISHED']);
    // Every caller learns the event its delta went out in.
    expect(new Set(deltas.map((e) => e.seq))).toEqual(new Set(loggedDeltas.map((e) => e['seq'])));
    expect(calls()).toBeLessThan(10);
  });

  it('sends a burst in batches: every event once, consecutive seqs, far fewer requests than events', async () => {
    const { gw } = await redisGatewayForTest();
    const { publisher, sessionId, calls } = await publisherFor(gw, { maxBatch: 25 });
    const published = await publisher.batch(Array.from({ length: 120 }, (_, i) => ({ progress: { percent: i % 101, message: `step ${i}` } })));
    expect(published.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 2));
    expect((await history(gw, sessionId)).map((e) => e['message'])).toEqual(Array.from({ length: 120 }, (_, i) => `step ${i}`));
    expect(calls()).toBeLessThanOrEqual(Math.ceil(120 / 25) + 1);
  });

  it('keeps each call under maxBatchBytes, splitting a burst of large events', async () => {
    const { gw } = await redisGatewayForTest();
    const { publisher, sessionId, calls } = await publisherFor(gw, { maxBatchBytes: 100_000 });
    const large = 'x'.repeat(30_000);
    const published = await publisher.batch(Array.from({ length: 10 }, (_, i) => ({ custom: { name: `big-${i}`, value: large } })));
    expect(published.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    expect(calls()).toBeGreaterThanOrEqual(4);
    expect((await history(gw, sessionId)).length).toBe(10);
  });

  it('retries after a dropped response with the same idempotency key: the event is logged once', async () => {
    const { gw } = await redisGatewayForTest();
    const proxy = await tcpProxyForTest(gw.url);
    const { publisher, sessionId, calls } = await publisherFor(gw, { url: new URL('/graphql', proxy.url).href, retry: { initialDelayMs: 10 } });
    await publisher.progress({ percent: 10 });
    const callsBefore = calls();

    proxy.dropNextResponse();
    const retried = await publisher.progress({ percent: 20, message: 'after a lost response' });

    expect(proxy.dropped).toBe(1);
    expect(calls() - callsBefore).toBe(2);
    expect(retried.seq).toBe(3);
    expect((await history(gw, sessionId)).map((e) => [e['seq'], e['percent']])).toEqual([
      [2, 10],
      [3, 20],
    ]);
    // The first attempt had been appended: the retry was answered from its idempotency key.
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^apg_publishes_replayed_total 1$/m);
    expect((await publisher.progress({ percent: 30 })).seq).toBe(4);
  });

  it('rejects only the refused event of a burst, with its code, and publishes the rest', async () => {
    const { gw } = await redisGatewayForTest();
    const { publisher, sessionId } = await publisherFor(gw);
    const outcomes = await Promise.allSettled([
      publisher.progress({ percent: 1 }),
      publisher.progress({ percent: 101 }),
      publisher.progress({ percent: 3 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (outcomes[1] as PromiseRejectedResult).reason;
    expect(refusal).toBeInstanceOf(AgentPublishError);
    expect(refusal).toMatchObject({ code: 'BAD_USER_INPUT', retryable: false });
    expect((await history(gw, sessionId)).map((e) => e['percent'])).toEqual([1, 3]);
  });

  it('refuses at once, without retrying, a token for another session', async () => {
    const { gw } = await redisGatewayForTest();
    const { token } = await sessionWithToken(gw);
    const { sessionId: otherSession } = await sessionWithToken(gw);
    const counter = countingFetch();
    const publisher = createAgentPublisher({ url: gw.url, token, sessionId: otherSession, fetch: counter.fetch });
    await expect(publisher.progress({ percent: 1 })).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(counter.calls()).toBe(1);
    const page = await graphql(gw.url, AGENT_EVENTS, { sessionId: otherSession });
    expect(page.data!['agentEvents']).toHaveLength(1);
  });
});
