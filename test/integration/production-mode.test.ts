import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startGateway } from '../support/gateway.js';

const JWT_SECRET = 'production-test-secret-of-at-least-32-chars';

async function userToken(sub: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
}

async function post(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('production mode', () => {
  it('answers a store failure with a coded error that carries no internals (no Redis reply text, no stack)', async () => {
    const gw = await startGateway({
      store: 'redis',
      redisUrl: inject('redisUrl'),
      config: { production: true, auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' }, publishTokenSecret: 'p'.repeat(32) },
    });
    onTestFinished(() => gw.stop());
    const redis = new Redis(gw.redisUrl!);
    onTestFinished(() => void redis.quit());
    const token = await userToken('alice');
    const sessionId = `s-${randomUUID()}`;
    expect((await post(gw.url, token, 'mutation($id: ID) { startSession(sessionId: $id) { id } }', { id: sessionId })).body.errors).toBeUndefined();

    // Someone overwrote the session's history with a value of the wrong type: Redis answers WRONGTYPE.
    const stream = `stream:user_alice:session_${sessionId}`;
    await redis.del(stream);
    await redis.set(stream, 'not a stream');
    const { body } = await post(gw.url, token, 'query($id: ID!) { agentEvents(sessionId: $id) { id } }', { id: sessionId });

    expect(body.errors?.map((error) => error.extensions?.['code'])).toEqual(['UNAVAILABLE']);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/WRONGTYPE|stack|originalError|at .*\.ts/);
    // The operator still gets the detail, in the log.
    expect(gw.logs.some((line) => line.msg === 'redis call failed' && String(line['err']).includes('WRONGTYPE'))).toBe(true);
  });
});
