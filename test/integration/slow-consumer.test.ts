/** A WebSocket whose peer stops reading is closed as a slow consumer (4104), and resumes without a loss. */
import { describe, expect, it, onTestFinished } from 'vitest';
import { GatewayCloseCode } from '../../src/ws/close-codes.js';
import { startedSession, subscribe, wsClientForTest } from '../support/clients.js';
import { redisGatewayForTest } from '../support/gateway.js';
import { RawWs } from '../support/raw-ws.js';

/** More than loopback's socket buffers hold, so the gateway's sends to a peer that does not read must wait. */
const EVENTS = 150;
const PADDING = 'x'.repeat(60_000);

const FOLLOW_WITH_VALUES = /* GraphQL */ `
  subscription ($sessionId: ID!, $after: ID) {
    agentProgress(sessionId: $sessionId, after: $after) { id seq type ... on Custom { name value } }
  }
`;

async function slowConsumersClosed(url: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/^apg_websocket_slow_consumers_closed_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

describe('slow consumers', () => {
  it('closes a socket that stops reading with 4104; resubscribing with after delivers the rest exactly once', async () => {
    const { gw, redis } = await redisGatewayForTest({ sendTimeoutMs: 300 });
    const sessionId = await startedSession(gw.url);
    const raw = await RawWs.connect(gw.wsUrl);
    onTestFinished(() => raw.terminate());
    expect(await raw.init({ userId: 'alice' })).toMatchObject({ type: 'connection_ack' });
    raw.subscribe('1', FOLLOW_WITH_VALUES, { sessionId });
    await raw.until((m) => m.type === 'next', 'SESSION_STARTED');

    raw.socket.pause();
    const keys = [`stream:user_alice:session_${sessionId}`, `session:${sessionId}`];
    for (let i = 0; i < EVENTS; i++) {
      await redis.call('FCALL', 'apg_publish', 2, ...keys, JSON.stringify({ type: 'CUSTOM', name: `e${i}`, value: PADDING }));
    }
    await expect.poll(() => slowConsumersClosed(gw.url), { timeout: 10_000 }).toBe(1);
    raw.socket.resume();
    expect(await raw.closed).toMatchObject({ code: GatewayCloseCode.SlowConsumer });

    const before = raw.received.filter((m) => m.type === 'next').map((m) => m.payload.data.agentProgress as { id: string; seq: number });
    expect(before.length).toBeLessThan(EVENTS + 1);
    const resumed = subscribe(wsClientForTest(gw.wsUrl), FOLLOW_WITH_VALUES, { sessionId, after: before.at(-1)!.id });
    await resumed.count(EVENTS + 1 - before.length);
    const seqs = [...before.map((e) => e.seq), ...resumed.events.map((e) => e['seq'] as number)];
    expect(seqs).toEqual(Array.from({ length: EVENTS + 1 }, (_, i) => i + 1));
    // The gateway goes on serving everyone else.
    expect(await slowConsumersClosed(gw.url)).toBe(1);
  });
});
