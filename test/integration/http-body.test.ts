/** Request bodies read before Yoga sees them (src/http/read-body-first.ts): what a misbehaving client can do. */
import { connect } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { graphql, startedSession } from '../support/clients.js';
import { gatewayForTest } from '../support/gateway.js';
import { PUBLISH } from '../support/operations.js';

/** Opens a raw connection to the gateway and collects everything it answers until it closes. */
async function rawConnection(url: string) {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  const closed = once(socket, 'close').then(() => answer);
  return { socket, closed };
}

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

  it('answers a chunked body over MAX_REQUEST_BYTES with 413 without reading the rest, closes that connection, and serves the next', async () => {
    const gw = await gatewayForTest('memory', { maxRequestBytes: 8192 });
    const sessionId = await startedSession(gw.url);
    const { socket, closed } = await rawConnection(gw.url);
    socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `{"query":"mutation","variables":{"x":"${'x'.repeat(9_000)}"`;
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`); // never finished: the gateway must not wait for the end
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"REQUEST_ENTITY_TOO_LARGE"');
    const published = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: { percent: 30 } } });
    expect(published.data!['publishAgentEvent']).toMatchObject({ seq: 2 });
  });

  it('answers a declared length over MAX_REQUEST_BYTES with 413 at once, before any of the body arrives', async () => {
    const gw = await gatewayForTest('memory', { maxRequestBytes: 8192 });
    const { socket, closed } = await rawConnection(gw.url);
    socket.write('POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\nContent-Length: 1000000\r\n\r\n');
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"REQUEST_ENTITY_TOO_LARGE"');
  });

  it('answers an empty POST body with a coded 400, and keeps the connection for the next request', async () => {
    const gw = await gatewayForTest('memory');
    const { socket, closed } = await rawConnection(gw.url);
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nx-user-id: alice\r\nContent-Length: 0\r\n\r\n' +
        'GET /health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n',
    );
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"BAD_REQUEST"');
    expect(answer.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 400', 'HTTP/1.1 200']);
  });
});
