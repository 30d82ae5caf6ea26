import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { graphql, startedSession, subscribe, wsClient, type Collected } from '../support/clients.js';
import { gatewayForTest, STORES, type TestGateway } from '../support/gateway.js';
import { AGENT_PROGRESS, PUBLISH, START_SESSION } from '../support/operations.js';

function progress(gw: TestGateway, sessionId: string, percent: number) {
  return graphql(gw.url, PUBLISH, { sessionId, event: { progress: { percent } } });
}

describe.each(STORES)('subscribe semantics (%s)', (store) => {
  it('replays history, then continues live, in seq order', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = await startedSession(gw.url);
    await progress(gw, sessionId, 10);
    const client = wsClient(gw.wsUrl);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, AGENT_PROGRESS, { sessionId });
    await sub.count(2);
    await progress(gw, sessionId, 20);
    await sub.count(3);
    expect(sub.events.map((e) => [e['seq'], e['type'], e['percent'] ?? null])).toEqual([
      [1, 'SESSION_STARTED', null],
      [2, 'PROGRESS', 10],
      [3, 'PROGRESS', 20],
    ]);
  });

  it('20 subscribers joining while a publisher publishes each receive every event after their start exactly once, in order', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = await startedSession(gw.url);
    const total = 200;
    const subscribers: { after: number | undefined; sub: Collected }[] = [];
    const clients = Array.from({ length: 20 }, () => wsClient(gw.wsUrl));
    onTestFinished(() => Promise.all(clients.map((c) => c.dispose())).then(() => undefined));

    // Publisher: sequential publishes, so seq n+1 is logged after seq n; subscribers join while it runs.
    const progressMade = new EventEmitter();
    let published = 1;
    const publisher = (async () => {
      for (let i = 1; i <= total; i++) {
        const result = await progress(gw, sessionId, i % 101);
        expect(result.errors).toBeUndefined();
        published = (result.data!['publishAgentEvent'] as { seq: number }).seq;
        progressMade.emit('published');
      }
    })();
    const publishedAtLeast = async (seq: number) => {
      while (published < seq) await once(progressMade, 'published');
    };
    for (const [index, client] of clients.entries()) {
      // Joins spread over the whole run; half resume from a recent cursor, half start from the beginning.
      await publishedAtLeast(1 + index * (total / clients.length));
      const after = index % 2 === 0 ? Math.max(1, published - 3) : undefined;
      subscribers.push({ after, sub: subscribe(client, AGENT_PROGRESS, { sessionId, ...(after ? { after: String(after) } : {}) }) });
    }
    await publisher;
    const lastSeq = total + 1;
    for (const { after, sub } of subscribers) {
      await sub.until((c) => c.events.at(-1)?.['seq'] === lastSeq, `seq ${lastSeq}`);
      const first = (after ?? 0) + 1;
      expect(sub.events.map((e) => e['seq'])).toEqual(Array.from({ length: lastSeq - first + 1 }, (_, i) => first + i));
      expect(sub.errors).toEqual([]);
    }
  });
});
