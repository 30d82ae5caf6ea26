import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { errorCodes, graphql, startedSession, subscribe, subscribeSse, wsClient, wsClientForTest } from '../support/clients.js';
import { gatewayForTest, STORES, type TestGateway } from '../support/gateway.js';
import { AGENT_EVENTS, AGENT_PROGRESS, END_SESSION, PUBLISH, SESSION, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';
import type { GatewayConfig } from '../../src/config.js';

const publish = (gw: TestGateway, variables: Record<string, unknown>) => graphql(gw.url, PUBLISH, variables);

describe.each(STORES)('sessions (%s)', (store) => {
  describe('startSession', () => {
    it('uses a client-supplied id, makes one when none is given, and makes the caller the owner', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = `trace-${randomUUID()}`;
      const mine = await graphql(gw.url, START_SESSION, { sessionId });
      expect(mine.data?.['startSession']).toMatchObject({ id: sessionId, status: 'ACTIVE' });
      const made = await graphql(gw.url, START_SESSION, {});
      expect(made.data?.['startSession']['id']).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
      expect((await graphql(gw.url, SESSION, { id: sessionId })).data?.['session']).toEqual({ id: sessionId, status: 'ACTIVE' });
    });

    it('is idempotent for the owner: the same session, one SESSION_STARTED', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      const again = await graphql(gw.url, START_SESSION, { sessionId });
      expect(again.errors).toBeUndefined();
      const events = await graphql(gw.url, AGENT_EVENTS, { sessionId });
      expect(events.data?.['agentEvents'].map((e: { type: string }) => e.type)).toEqual(['SESSION_STARTED']);
    });

    it('rejects an unsafe id and an id another user owns, changing nothing', async () => {
      const gw = await gatewayForTest(store);
      for (const sessionId of ['a:b', 'x*', '', 'a'.repeat(129), 'spa ce', 'é']) {
        expect(errorCodes(await graphql(gw.url, START_SESSION, { sessionId }))).toEqual(['BAD_USER_INPUT']);
      }
      const sessionId = await startedSession(gw.url, 'alice');
      expect(errorCodes(await graphql(gw.url, START_SESSION, { sessionId }, 'bob'))).toEqual(['SESSION_ID_TAKEN']);
      expect((await graphql(gw.url, SESSION, { id: sessionId }, 'alice')).data?.['session']).toMatchObject({ status: 'ACTIVE' });
    });
  });

  describe('submitRequest', () => {
    it('assigns a request id, queues the job and publishes REQUEST_QUEUED', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      const sub = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
      const input = { prompt: 'Plan a trip', options: [1, 2] };
      const submitted = await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input });
      const request = submitted.data?.['submitRequest'];
      expect(request).toMatchObject({ sessionId, input });
      expect(request.id).toMatch(/^[A-Za-z0-9_-]+$/);
      await sub.count(2);
      expect(sub.events[1]).toMatchObject({ type: 'REQUEST_QUEUED', requestId: request.id, seq: 2 });
      expect(await gw.app.eventLog.takeJob()).toMatchObject({ requestId: request.id, sessionId, userId: 'alice', input });
    });

    it('refuses an oversized input with PAYLOAD_TOO_LARGE and queues nothing', async () => {
      const gw = await gatewayForTest(store, { maxEventBytes: 2048 });
      const sessionId = await startedSession(gw.url);
      const result = await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input: { text: 'x'.repeat(4096) } });
      expect(errorCodes(result)).toEqual(['PAYLOAD_TOO_LARGE']);
      expect(await gw.app.eventLog.takeJob()).toBeNull();
    });
  });

  describe('a request subscription', () => {
    it('gets only its request’s events and completes after RUN_FINISHED; another completes after RUN_FAILED', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      const c = wsClientForTest(gw.wsUrl);
      const finished = subscribe(c, AGENT_PROGRESS, { sessionId, requestId: 'r1' });
      const failed = subscribe(c, AGENT_PROGRESS, { sessionId, requestId: 'r2' });
      const all = subscribe(c, AGENT_PROGRESS, { sessionId });
      await all.count(1);
      await publish(gw, { sessionId, requestId: 'r1', event: { runStarted: { message: 'go' } } });
      await publish(gw, { sessionId, requestId: 'r2', event: { progress: { percent: 5 } } });
      await publish(gw, { sessionId, requestId: 'r1', event: { runFinished: { result: { answer: 42 } } } });
      await publish(gw, { sessionId, requestId: 'r2', event: { runFailed: { message: 'tool broke', retryable: true } } });
      await publish(gw, { sessionId, requestId: 'r1', event: { progress: { percent: 100 } } });
      expect(await finished.done).toBe('complete');
      expect(await failed.done).toBe('complete');
      expect(finished.events.map((e) => e['type'])).toEqual(['RUN_STARTED', 'RUN_FINISHED']);
      expect(finished.events[1]?.['result']).toEqual({ answer: 42 });
      expect(failed.events.map((e) => e['type'])).toEqual(['PROGRESS', 'RUN_FAILED']);
      await all.count(6);
      expect(all.outcome).toBeUndefined();
    });

    it('of a request that already finished replays it and completes', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      await publish(gw, { sessionId, requestId: 'done', event: { runFinished: { result: 'ok' } } });
      const late = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId, requestId: 'done' });
      expect(await late.done).toBe('complete');
      expect(late.events.map((e) => e['type'])).toEqual(['RUN_FINISHED']);
    });
  });

  describe('endSession', () => {
    it('delivers SESSION_ENDED, completes every subscription of the session and deletes its history and record', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      const other = await startedSession(gw.url);
      const c = wsClientForTest(gw.wsUrl);
      const whole = subscribe(c, AGENT_PROGRESS, { sessionId });
      const request = subscribe(c, AGENT_PROGRESS, { sessionId, requestId: 'r1' });
      const untouched = subscribe(c, AGENT_PROGRESS, { sessionId: other });
      await whole.count(1);
      await untouched.count(1);
      const ended = await graphql(gw.url, END_SESSION, { sessionId });
      expect(ended.data?.['endSession']).toEqual({ id: sessionId, status: 'ENDED' });
      expect(await whole.done).toBe('complete');
      expect(await request.done).toBe('complete');
      expect(whole.events.at(-1)).toMatchObject({ type: 'SESSION_ENDED', reason: 'ENDED', seq: 2 });
      expect(request.events.map((e) => e['type'])).toEqual(['SESSION_ENDED']);
      expect((await graphql(gw.url, SESSION, { id: sessionId })).data?.['session']).toBeNull();
      expect(errorCodes(await graphql(gw.url, AGENT_EVENTS, { sessionId }))).toEqual(['SESSION_NOT_FOUND']);
      expect(errorCodes(await graphql(gw.url, END_SESSION, { sessionId }))).toEqual(['SESSION_NOT_FOUND']);
      expect(errorCodes(await publish(gw, { sessionId, event: { progress: { percent: 1 } } }))).toEqual(['SESSION_NOT_FOUND']);
      // The other session goes on.
      await publish(gw, { sessionId: other, event: { progress: { percent: 7 } } });
      await untouched.count(2);
      expect(untouched.outcome).toBeUndefined();
    });
  });

  describe('idle sessions expire', () => {
    it('after SESSION_TTL without events: subscriptions complete with SESSION_ENDED (EXPIRED), the session is gone', async () => {
      const gw = await gatewayForTest(store, { sessionTtlMs: 600, idleCheckMs: 100 });
      const sessionId = await startedSession(gw.url);
      const sub = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
      expect(await sub.done).toBe('complete');
      expect(sub.events.at(-1)).toMatchObject({ type: 'SESSION_ENDED', reason: 'EXPIRED', ephemeral: true });
      expect((await graphql(gw.url, SESSION, { id: sessionId })).data?.['session']).toBeNull();
      if (store === 'redis') {
        const redis = new Redis(gw.redisUrl!);
        onTestFinished(() => void redis.quit());
        expect(await redis.keys(`*${sessionId}*`)).toEqual([]);
      }
    });
  });

  describe('isolation: a user reaches only their own sessions', () => {
    it('another user cannot read, subscribe to (WebSocket or SSE), submit to or end it, and it is left untouched', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url, 'alice');
      await publish(gw, { sessionId, event: { progress: { percent: 50 } } });

      expect((await graphql(gw.url, SESSION, { id: sessionId }, 'bob')).data?.['session']).toBeNull();
      expect(errorCodes(await graphql(gw.url, AGENT_EVENTS, { sessionId }, 'bob'))).toEqual(['SESSION_NOT_FOUND']);
      expect(errorCodes(await graphql(gw.url, SUBMIT_REQUEST, { sessionId, input: {} }, 'bob'))).toEqual(['SESSION_NOT_FOUND']);
      expect(errorCodes(await graphql(gw.url, END_SESSION, { sessionId }, 'bob'))).toEqual(['SESSION_NOT_FOUND']);
      // A refused subscription ends after its error (graphql-ws sends it as a result, then completes).
      const ws = subscribe(wsClientForTest(gw.wsUrl, 'bob'), AGENT_PROGRESS, { sessionId });
      await ws.done;
      expect(errorCodes(ws.errors)).toEqual(['SESSION_NOT_FOUND']);
      expect(ws.events).toEqual([]);
      const sse = subscribeSse(gw.url, AGENT_PROGRESS, { sessionId }, 'bob');
      onTestFinished(() => sse.unsubscribe());
      await sse.until((c) => c.errors.length > 0, 'an SSE error');
      expect(errorCodes(sse.errors)).toEqual(['SESSION_NOT_FOUND']);
      expect(sse.events).toEqual([]);

      // The owner sees everything unchanged, over SSE too.
      const events = await graphql(gw.url, AGENT_EVENTS, { sessionId }, 'alice');
      expect(events.data?.['agentEvents'].map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
      const own = subscribeSse(gw.url, AGENT_PROGRESS, { sessionId }, 'alice');
      onTestFinished(() => own.unsubscribe());
      await own.count(2);
      expect(own.events.map((e) => e['type'])).toEqual(['SESSION_STARTED', 'PROGRESS']);
    });
  });

  describe('bad input gets a coded error and changes nothing', () => {
    it('over HTTP: malformed documents, unknown fields, bad variables, unsafe ids, bad cursors, oversized events', async () => {
      const gw = await gatewayForTest(store, { maxEventBytes: 2048 });
      const sessionId = await startedSession(gw.url);
      const control = subscribe(wsClientForTest(gw.wsUrl), AGENT_PROGRESS, { sessionId });
      await control.count(1);
      const post = (query: string, variables = {}) => graphql(gw.url, query, variables);
      const cases: [string, Promise<unknown>][] = [
        ['GRAPHQL_PARSE_FAILED', post('{ session(id: ')],
        ['GRAPHQL_VALIDATION_FAILED', post('{ nope }')],
        ['GRAPHQL_VALIDATION_FAILED', post(`mutation { publishAgentEvent(sessionId: "${sessionId}", event: { progress: { percent: 1 }, custom: { name: "x" } }) { id } }`)],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, event: { progress: { percent: 'x' } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, event: { progress: { percent: 1 }, custom: { name: 'x' } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, event: { progress: { percent: 101 } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, event: { toolCallStarted: { toolCallId: 'a:b', toolName: 't' } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, requestId: 'r*', event: { progress: { percent: 1 } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId: 'bad:id', event: { progress: { percent: 1 } } })],
        ['BAD_USER_INPUT', post(PUBLISH, { sessionId, event: { stepStarted: { name: '' } } })],
        ['PAYLOAD_TOO_LARGE', post(PUBLISH, { sessionId, event: { custom: { name: 'big', value: 'x'.repeat(4096) } } })],
        ['SESSION_NOT_FOUND', post(PUBLISH, { sessionId: 'no-such-session', event: { progress: { percent: 1 } } })],
        ['INVALID_CURSOR', post(AGENT_EVENTS, { sessionId, after: 'not-a-cursor' })],
        ['INVALID_CURSOR', post(AGENT_EVENTS, { sessionId, after: '999' })],
        ['BAD_USER_INPUT', post(SESSION, { id: '../../etc' })],
      ];
      for (const [code, response] of cases) expect(errorCodes((await response) as never), code).toEqual([code]);
      const events = await post(AGENT_EVENTS, { sessionId });
      expect(events.data?.['agentEvents'].map((e: { type: string }) => e.type)).toEqual(['SESSION_STARTED']);
      await publish(gw, { sessionId, event: { progress: { percent: 1 } } });
      await control.count(2);
      expect(control.events.map((e) => e['seq'])).toEqual([1, 2]);
    });

    it('over WebSocket: malformed documents and bad cursors fail that operation only; a malformed identity is refused (4403)', async () => {
      const gw = await gatewayForTest(store);
      const sessionId = await startedSession(gw.url);
      const c = wsClientForTest(gw.wsUrl);
      const control = subscribe(c, AGENT_PROGRESS, { sessionId });
      await control.count(1);
      for (const [code, query, variables] of [
        ['GRAPHQL_PARSE_FAILED', 'subscription { agentProgress(', {}],
        ['GRAPHQL_VALIDATION_FAILED', 'subscription { nope }', {}],
        ['INVALID_CURSOR', AGENT_PROGRESS, { sessionId, after: '999' }],
        ['INVALID_CURSOR', AGENT_PROGRESS, { sessionId, after: '-1' }],
        ['BAD_USER_INPUT', AGENT_PROGRESS, { sessionId: 'x:y' }],
        ['BAD_USER_INPUT', AGENT_PROGRESS, { sessionId: 7.5 }],
      ] as const) {
        const failed = subscribe(c, query, variables);
        await failed.done;
        expect(errorCodes(failed.errors), query).toEqual([code]);
        expect(failed.events).toEqual([]);
      }
      const closed = new Promise<number>((resolve) => {
        const bad = wsClient(gw.wsUrl, 'not:safe');
        onTestFinished(() => bad.dispose());
        bad.on('closed', (event) => resolve((event as CloseEvent).code));
        bad.subscribe({ query: AGENT_PROGRESS, variables: { sessionId } }, { next() {}, error() {}, complete() {} });
      });
      expect(await closed).toBe(4403);
      await publish(gw, { sessionId, event: { progress: { percent: 3 } } });
      await control.count(2);
      expect(control.outcome).toBeUndefined();
    });
  });
});
