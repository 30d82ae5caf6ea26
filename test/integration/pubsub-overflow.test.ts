/**
 * Redis drops a pub/sub connection whose output buffer passes `client-output-buffer-limit` (what silently lost
 * Socket.IO's events in the runs). The gateway must notice, resubscribe and fill the gap from history:
 * every subscriber still ends with every event exactly once, in order.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { graphql, subscribe, wsClientForTest } from '../support/clients.js';
import { startGateway } from '../support/gateway.js';
import { START_SESSION } from '../support/operations.js';
import { startRedisServer } from '../support/redis-server.js';

const EVENTS = 3_000;
const FOLLOW = /* GraphQL */ `
  subscription ($sessionId: ID!) { agentProgress(sessionId: $sessionId) { seq ... on Custom { name } } }
`;

describe('a pub/sub connection dropped by Redis for its output buffer', () => {
  it('is noticed and filled from history: the subscribers get every event once, in order', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const gw = await startGateway({ store: 'redis', redisUrl: server.url });
    onTestFinished(() => gw.stop());
    const redis = new Redis(server.url);
    onTestFinished(async () => {
      await redis.quit();
    });
    const sessionId = `s-${crypto.randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId })).errors).toBeUndefined();
    const subscribers = [1, 2].map(() => subscribe(wsClientForTest(gw.wsUrl), FOLLOW, { sessionId }));
    await Promise.all(subscribers.map((sub) => sub.count(1)));

    // Anything beyond Redis's 16 KB static reply buffer for a pub/sub client is over the limit: it is cut at once.
    await redis.config('SET', 'client-output-buffer-limit', 'pubsub 1kb 1kb 0');
    const keys = [`stream:user_alice:session_${sessionId}`, `session:${sessionId}`];
    const padding = 'x'.repeat(1_000);
    const burst = redis.pipeline();
    for (let i = 0; i < EVENTS; i++) burst.call('FCALL', 'apg_publish', 2, ...keys, JSON.stringify({ type: 'CUSTOM', name: `e${i}`, value: padding }));
    for (const [err] of (await burst.exec())!) expect(err).toBeNull();
    await redis.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');

    for (const sub of subscribers) {
      await sub.count(EVENTS + 1);
      expect(sub.events.map((e) => e['seq'])).toEqual(Array.from({ length: EVENTS + 1 }, (_, i) => i + 1));
    }
    // The connection was dropped and the gap refilled, rather than the burst slipping under the limit.
    expect(gw.logs.some((line) => line.msg === 'redis pub/sub reconnected; resyncing subscribers from history')).toBe(true);
  });
});
