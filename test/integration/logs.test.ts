/**
 * Structured logs: lines about a session carry `sessionId` (and `requestId`) as fields; an operation that fails on
 * the gateway's side is logged once at error level with the operation; a client error is not logged at all.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { gatewayError } from '../../src/errors.js';
import { graphql, subscribe, wsClient } from '../support/clients.js';
import { gatewayForTest, STORES, type LogRecord, type TestGateway } from '../support/gateway.js';
import { AGENT_PROGRESS, END_SESSION, PUBLISH, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';

const USER = 'alice';
const ERROR = 50;

const NAMED_PUBLISH = /* GraphQL */ `
  mutation Report($sessionId: ID!, $requestId: ID) {
    publishAgentEvent(sessionId: $sessionId, requestId: $requestId, event: { progress: { percent: 1 } }) { id }
  }
`;
const NAMED_FOLLOW = /* GraphQL */ `
  subscription Follow($sessionId: ID!) { agentProgress(sessionId: $sessionId, requestId: "r7") { id } }
`;

const errorLines = (gw: TestGateway) => gw.logs.filter((line) => line.level >= ERROR);
const lines = (gw: TestGateway, msg: string) => gw.logs.filter((line) => line.msg === msg);
const fields = (line: LogRecord | undefined, ...names: string[]) => Object.fromEntries(names.map((name) => [name, line?.[name]]));

describe.each(STORES)('logs (%s)', (store) => {
  it('name the session and the request on the lines about them', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId }, USER)).errors).toBeUndefined();
    const client = wsClient(gw.wsUrl, USER);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, AGENT_PROGRESS, { sessionId, requestId: 'r9' });
    await expect.poll(() => lines(gw, 'subscription started').length).toBe(1);
    const queued = await graphql<{ submitRequest: { id: string } }>(gw.url, SUBMIT_REQUEST, { sessionId, input: {} }, USER);
    expect((await graphql(gw.url, END_SESSION, { sessionId }, USER)).errors).toBeUndefined();
    expect(await sub.done).toBe('complete');
    await expect.poll(() => lines(gw, 'subscription ended').length).toBe(1);

    expect(fields(lines(gw, 'session started')[0], 'sessionId')).toEqual({ sessionId });
    expect(fields(lines(gw, 'request queued')[0], 'sessionId', 'requestId')).toEqual({ sessionId, requestId: queued.data!.submitRequest.id });
    expect(fields(lines(gw, 'session ended')[0], 'sessionId')).toEqual({ sessionId });
    expect(fields(lines(gw, 'subscription started')[0], 'sessionId', 'requestId', 'transport')).toEqual({ sessionId, requestId: 'r9', transport: 'ws' });
    // SESSION_ENDED only: the request's events would be the others.
    expect(fields(lines(gw, 'subscription ended')[0], 'sessionId', 'requestId', 'delivered')).toEqual({ sessionId, requestId: 'r9', delivered: 1 });
    expect(errorLines(gw)).toEqual([]);
  });

  it('log an operation that fails on the gateway side once, at error level, with the operation, session and request', async () => {
    const gw = await gatewayForTest(store);
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId }, USER)).errors).toBeUndefined();

    // A client error is the client's business: nothing at error level.
    const refused = await graphql(gw.url, NAMED_PUBLISH, { sessionId: `s-${randomUUID()}` }, USER);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('SESSION_NOT_FOUND');
    expect(errorLines(gw)).toEqual([]);

    // A bug: Yoga masks it for the client and would log it too; the gateway logs it once, with the operation.
    gw.app.eventLog.getSession = () => Promise.reject(new TypeError('getSession exploded'));
    const masked = await graphql(gw.url, NAMED_PUBLISH, { sessionId, requestId: 'r1' }, USER);
    expect(masked.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
    // The same over graphql-ws, for a subscription that fails while it starts.
    const client = wsClient(gw.wsUrl, USER);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, NAMED_FOLLOW, { sessionId });
    await sub.done;
    expect(sub.errors.map((error) => error.message)).toEqual(['Unexpected error.']);
    // A store outage (UNAVAILABLE) is a failure too, even though the client gets a code.
    gw.app.eventLog.getSession = () => Promise.reject(gatewayError('UNAVAILABLE', 'The event store is unavailable; try again.'));
    const unavailable = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: {} } }, USER);
    expect(unavailable.errors?.[0]?.extensions?.['code']).toBe('UNAVAILABLE');

    const logged = errorLines(gw).map((line) => ({
      ...fields(line, 'msg', 'operationName', 'operationType', 'sessionId', 'requestId', 'code', 'path'),
      err: (line['err'] as { message?: string } | undefined)?.message,
    }));
    expect(logged).toEqual([
      {
        msg: 'graphql operation failed',
        operationName: 'Report',
        operationType: 'mutation',
        sessionId,
        requestId: 'r1',
        code: undefined,
        path: 'publishAgentEvent',
        err: 'getSession exploded',
      },
      {
        msg: 'graphql operation failed',
        operationName: 'Follow',
        operationType: 'subscription',
        sessionId,
        requestId: 'r7',
        code: undefined,
        path: 'agentProgress',
        err: 'getSession exploded',
      },
      {
        msg: 'graphql operation failed',
        operationName: undefined,
        operationType: 'mutation',
        sessionId,
        requestId: undefined,
        code: 'UNAVAILABLE',
        path: 'publishAgentEvent',
        err: 'The event store is unavailable; try again.',
      },
    ]);
  });
});
