/** `publishAgentEvents` (batches) and idempotency keys on both publish mutations, on both stores. */
import { describe, expect, it } from 'vitest';
import { errorCodes, graphql, startedSession, subscribe, wsClientForTest } from '../support/clients.js';
import { gatewayForTest, STORES } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS } from '../support/operations.js';

const PUBLISH_ONE = /* GraphQL */ `
  mutation ($sessionId: ID!, $event: AgentEventInput!, $key: String) {
    publishAgentEvent(sessionId: $sessionId, event: $event, idempotencyKey: $key) { id seq type timestamp }
  }
`;
const PUBLISH_MANY = /* GraphQL */ `
  mutation ($sessionId: ID!, $requestId: ID, $agent: String, $events: [AgentEventInput!]!, $key: String) {
    publishAgentEvents(sessionId: $sessionId, requestId: $requestId, agent: $agent, events: $events, idempotencyKey: $key) {
      id seq type requestId agent timestamp
      ... on Progress { percent }
      ... on TextMessageDelta { delta }
    }
  }
`;

const progress = (percent: number) => ({ progress: { percent } });
const delta = (text: string) => ({ textMessageDelta: { messageId: 'm1', delta: text } });

async function historySeqs(url: string, sessionId: string): Promise<number[]> {
  const page = await graphql(url, AGENT_EVENTS, { sessionId, first: 100 });
  return (page.data!['agentEvents'] as { seq: number }[]).map((e) => e.seq);
}

async function replayedMetric(url: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/^apg_publishes_replayed_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

describe.each(STORES)('publishAgentEvents and idempotency keys (%s)', (store) => {
  it('publishes a batch atomically: consecutive seqs, one timestamp, the envelope on every event, delivered in order', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = await startedSession(gw.url);
    const sub = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
    await sub.count(1);
    const result = await graphql(gw.url, PUBLISH_MANY, { sessionId, requestId: 'r1', agent: 'writer', events: [delta('Hel'), delta('lo'), progress(50)] });
    expect(result.errors).toBeUndefined();
    const published = result.data!['publishAgentEvents'] as Record<string, any>[];
    expect(published.map((e) => [e['seq'], e['type'], e['requestId'], e['agent']])).toEqual([
      [2, 'TEXT_MESSAGE_DELTA', 'r1', 'writer'],
      [3, 'TEXT_MESSAGE_DELTA', 'r1', 'writer'],
      [4, 'PROGRESS', 'r1', 'writer'],
    ]);
    expect(new Set(published.map((e) => e['timestamp'])).size).toBe(1);
    await sub.count(4);
    expect(sub.events.slice(1).map((e) => [e['id'], e['seq'], e['percent'] ?? null])).toEqual(published.map((e) => [e['id'], e['seq'], e['percent'] ?? null]));
  });

  it('answers a retry with the same idempotency key with the original event, appending nothing', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = await startedSession(gw.url);
    const replayedBefore = await replayedMetric(gw.url);
    const first = await graphql(gw.url, PUBLISH_ONE, { sessionId, event: progress(10), key: 'k-1' });
    const retry = await graphql(gw.url, PUBLISH_ONE, { sessionId, event: progress(10), key: 'k-1' });
    expect(retry).toEqual(first);
    const batch = await graphql(gw.url, PUBLISH_MANY, { sessionId, events: [progress(20), progress(30)], key: 'k-2' });
    expect(await graphql(gw.url, PUBLISH_MANY, { sessionId, events: [progress(20), progress(30)], key: 'k-2' })).toEqual(batch);
    expect(await historySeqs(gw.url, sessionId)).toEqual([1, 2, 3, 4]);
    expect((await replayedMetric(gw.url)) - replayedBefore).toBe(2);
  });

  it('refuses, with a code and nothing appended: a reused key, a malformed key, an empty, oversized or partly invalid batch', async () => {
    const gw = await gatewayForTest(store, { maxPublishBatch: 3 });
    const sessionId = await startedSession(gw.url);
    await graphql(gw.url, PUBLISH_ONE, { sessionId, event: progress(10), key: 'k-1' });
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ sessionId, event: progress(11), key: 'k-1' }, PUBLISH_ONE, 'IDEMPOTENCY_KEY_REUSED'],
      [{ sessionId, events: [progress(10), progress(10)], key: 'k-1' }, PUBLISH_MANY, 'IDEMPOTENCY_KEY_REUSED'],
      [{ sessionId, event: progress(11), key: 'not a key' }, PUBLISH_ONE, 'BAD_USER_INPUT'],
      [{ sessionId, event: progress(11), key: '' }, PUBLISH_ONE, 'BAD_USER_INPUT'],
      [{ sessionId, events: [] }, PUBLISH_MANY, 'BAD_USER_INPUT'],
      [{ sessionId, events: [progress(1), progress(2), progress(3), progress(4)] }, PUBLISH_MANY, 'BATCH_TOO_LARGE'],
      [{ sessionId, events: [progress(1), progress(101)] }, PUBLISH_MANY, 'BAD_USER_INPUT'],
      [{ sessionId, events: [progress(1), { progress: { percent: 1 }, custom: { name: 'x' } }] }, PUBLISH_MANY, 'BAD_USER_INPUT'],
    ];
    for (const [variables, document, code] of refusals) {
      const result = await graphql(gw.url, document, variables);
      expect(errorCodes(result), JSON.stringify(variables)).toEqual([code]);
      expect(Object.values(result.data ?? {}).filter((value) => value !== null)).toEqual([]);
    }
    const partlyInvalid = await graphql(gw.url, PUBLISH_MANY, { sessionId, events: [progress(1), progress(101)] });
    expect(partlyInvalid.errors?.[0]?.message).toMatch(/^events\[1\]: /);
    expect(await historySeqs(gw.url, sessionId)).toEqual([1, 2]);
  });

  it('counts every event of a batch against the session’s publish rate', async () => {
    const gw = await gatewayForTest(store, { publishRatePerSession: 0.001, publishBurstPerSession: 3 });
    const sessionId = await startedSession(gw.url);
    expect((await graphql(gw.url, PUBLISH_MANY, { sessionId, events: [progress(1), progress(2)] })).errors).toBeUndefined();
    expect(errorCodes(await graphql(gw.url, PUBLISH_MANY, { sessionId, events: [progress(3), progress(4)] }))).toEqual(['RATE_LIMITED']);
    expect((await graphql(gw.url, PUBLISH_ONE, { sessionId, event: progress(3) })).errors).toBeUndefined();
    expect(await historySeqs(gw.url, sessionId)).toEqual([1, 2, 3, 4]);
  });
});
