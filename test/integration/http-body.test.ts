/** Request bodies read before Yoga sees them (src/http/read-body-first.ts): what a misbehaving client can do. */
import { connect } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { graphql, startedSession } from '../support/clients.js';
import { gatewayForTest } from '../support/gateway.js';
import { PUBLISH } from '../support/operations.js';

describe('request bodies', () => {
  it('a client that sends half its declared body and leaves changes nothing; the next publish is served', async () => {
    const gw = await gatewayForTest('memory');
    const sessionId = await startedSession(gw.url);
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\nContent-Length: 200\r\n\r\n{"query":"mutation');
    socket.destroy();
    await once(socket, 'close');
    const published = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 10 } } });
    expect(published.errors).toBeUndefined();
    expect(published.data!['publishAgentEvent']).toMatchObject({ seq: 2 });
  });

  it('a body of exactly its declared length in several chunks is read whole', async () => {
    const gw = await gatewayForTest('memory');
    const sessionId = await startedSession(gw.url);
    const body = JSON.stringify({ query: PUBLISH, variables: { sessionId, event: { progress: { percent: 20, message: 'x'.repeat(5_000) } } } });
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    for (let i = 0; i < body.length; i += 1_000) socket.write(body.slice(i, i + 1_000));
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"seq":2');
  });
});
