import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { channelKey } from '../../src/bus/redis-keys.js';
import { graphql, subscribe, wsClient } from '../support/clients.js';
import { startGateway } from '../support/gateway.js';
import { startRedisServer } from '../support/redis-server.js';
import { AGENT_PROGRESS, PUBLISH, START_SESSION } from '../support/operations.js';

describe('the live feed skips (Redis drops the gateway pub/sub connection)', () => {
  it('the gap is noticed by seq and filled from history: every event exactly once, in order, including the last', async () => {
    // A private redis-server: CLIENT KILL below would cut the pub/sub connections of every other test's gateway too.
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const redisUrl = server.url;
    const gw = await startGateway({ store: 'redis', redisUrl });
    onTestFinished(() => gw.stop());
    const redis = new Redis(redisUrl);
    onTestFinished(() => void redis.quit());
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId })).errors).toBeUndefined();
    const channel = channelKey({ userId: 'alice', sessionId });

    const client = wsClient(gw.wsUrl);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, AGENT_PROGRESS, { sessionId });
    await sub.count(1);

    const publish = async (percent: number) => {
      const result = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: { percent } } });
      expect(result.errors).toBeUndefined();
    };
    let percent = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) await publish(++percent);
      // Cut every pub/sub connection, then publish while the gateway reconnects: those messages never arrive live.
      await redis.client('KILL', 'TYPE', 'pubsub');
      for (let i = 0; i < 5; i++) await publish(++percent);
      await expect.poll(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]).toBe(1);
    }
    // The run ends during an outage: no later live event reveals the gap, the resubscribe itself must.
    await redis.client('KILL', 'TYPE', 'pubsub');
    await publish(++percent);

    const lastSeq = percent + 1;
    await sub.until((c) => c.events.at(-1)?.['seq'] === lastSeq, `seq ${lastSeq}`);
    expect(sub.events.map((e) => e['seq'])).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(sub.errors).toEqual([]);
    expect(gw.logs.some((line) => line.msg.includes('resyncing subscribers from history'))).toBe(true);
  });
});
