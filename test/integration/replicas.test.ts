import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { graphql, subscribe, wsClient } from '../support/clients.js';
import { spawnGateway } from '../support/gateway-process.js';
import { AGENT_PROGRESS, PUBLISH, START_SESSION } from '../support/operations.js';

describe('two gateway processes on one Redis', () => {
  it('a subscriber on one replica gets, in order, what is published on the other', async () => {
    const redisUrl = inject('redisUrl');
    const [a, b] = await Promise.all([spawnGateway({ REDIS_URL: redisUrl }), spawnGateway({ REDIS_URL: redisUrl })]);
    onTestFinished(async () => {
      await Promise.all([a.stop(), b.stop()]);
    });
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(a.url, START_SESSION, { sessionId })).errors).toBeUndefined();

    const client = wsClient(a.wsUrl);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, AGENT_PROGRESS, { sessionId });
    await sub.count(1); // SESSION_STARTED replayed: the subscription is live

    const total = 100;
    for (let i = 1; i <= total; i++) {
      const result = await graphql(b.url, PUBLISH, { sessionId, agent: 'replica-b', event: { progress: { percent: i } } });
      expect(result.errors).toBeUndefined();
    }
    await sub.count(total + 1);
    expect(sub.events.map((e) => e['seq'])).toEqual(Array.from({ length: total + 1 }, (_, i) => i + 1));
    expect(sub.events.slice(1).map((e) => e['percent'])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(sub.events.slice(1).every((e) => e['agent'] === 'replica-b')).toBe(true);
  });
});
