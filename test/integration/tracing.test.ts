/**
 * OpenTelemetry: off without OTEL_* variables; with them, one root span per GraphQL operation carrying the session
 * and request ids. The spans go to an in-memory exporter standing in for the OTLP one the variables name; the
 * provider, processor and plugin are the ones production runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { errorCodes, graphql, subscribe, wsClient } from '../support/clients.js';
import { startGateway, STORES, type Store, type TestGateway } from '../support/gateway.js';
import { AGENT_PROGRESS, END_SESSION, PUBLISH, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';

const USER = 'alice';

/** What a deployment sets to send traces to Arize Phoenix (a local one listens on 6006). */
const PHOENIX_ENV = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:6006', OTEL_SERVICE_NAME: 'apg-under-test' };

const START = /* GraphQL */ `
  mutation Start { startSession { id } }
`;

async function tracedGateway(store: Store): Promise<{ gw: TestGateway; exporter: InMemorySpanExporter }> {
  const { tracing } = loadConfig(PHOENIX_ENV, false);
  expect(tracing).toMatchObject({ exporters: ['otlp'], otlpEndpoint: 'http://127.0.0.1:6006/v1/traces', serviceName: 'apg-under-test' });
  const exporter = new InMemorySpanExporter();
  const gw = await startGateway({ store, redisUrl: inject('redisUrl'), config: { tracing }, spanExporter: exporter });
  onTestFinished(() => gw.stop());
  return { gw, exporter };
}

async function finishedSpans(gw: TestGateway, exporter: InMemorySpanExporter): Promise<ReadableSpan[]> {
  await gw.app.tracing!.flush();
  return exporter.getFinishedSpans();
}

describe.each(STORES)('tracing (%s)', (store) => {
  it('gives every operation a root span with session.id, and request.id where known', async () => {
    const { gw, exporter } = await tracedGateway(store);

    // startSession without an id: the span carries the id the resolver made.
    const started = await graphql<{ startSession: { id: string } }>(gw.url, START, {}, USER);
    const sessionId = started.data!.startSession.id;
    const client = wsClient(gw.wsUrl, USER);
    onTestFinished(() => client.dispose());
    const sub = subscribe(client, AGENT_PROGRESS, { sessionId });
    await sub.count(1);
    expect((await graphql(gw.url, PUBLISH, { sessionId, requestId: 'r1', event: { progress: { percent: 5 } } }, USER)).errors).toBeUndefined();
    const queued = await graphql<{ submitRequest: { id: string } }>(gw.url, SUBMIT_REQUEST, { sessionId, input: {} }, USER);
    expect(errorCodes(await graphql(gw.url, PUBLISH, { sessionId: `s-${randomUUID()}`, event: { progress: {} } }, USER))).toEqual(['SESSION_NOT_FOUND']);
    expect((await graphql(gw.url, END_SESSION, { sessionId }, USER)).errors).toBeUndefined();
    expect(await sub.done).toBe('complete');

    // The subscription span ends with its stream; poll for the export rather than guess when that happens.
    let spans: ReadableSpan[] = [];
    await expect.poll(async () => (spans = await finishedSpans(gw, exporter)).length).toBe(6);
    const summary = spans.map((span) => ({
      name: span.name,
      kind: span.kind,
      root: span.parentSpanContext === undefined,
      status: span.status.code,
      attributes: span.attributes,
      service: span.resource.attributes['service.name'],
    }));
    const common = { kind: SpanKind.SERVER, root: true, service: 'apg-under-test' };
    expect(summary).toEqual(
      expect.arrayContaining([
        {
          ...common,
          name: 'mutation Start',
          status: SpanStatusCode.UNSET,
          attributes: { 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'Start', 'session.id': sessionId },
        },
        {
          ...common,
          name: 'subscription agentProgress',
          status: SpanStatusCode.UNSET,
          // SESSION_STARTED, PROGRESS, REQUEST_QUEUED, SESSION_ENDED
          attributes: { 'graphql.operation.type': 'subscription', 'session.id': sessionId, 'apg.events_delivered': 4 },
        },
        {
          ...common,
          name: 'mutation publishAgentEvent',
          status: SpanStatusCode.UNSET,
          attributes: { 'graphql.operation.type': 'mutation', 'session.id': sessionId, 'request.id': 'r1' },
        },
        {
          ...common,
          name: 'mutation submitRequest',
          status: SpanStatusCode.UNSET,
          attributes: { 'graphql.operation.type': 'mutation', 'session.id': sessionId, 'request.id': queued.data!.submitRequest.id },
        },
        {
          ...common,
          name: 'mutation publishAgentEvent',
          // A refusal is the client's error: recorded, but the span is no failure.
          status: SpanStatusCode.UNSET,
          attributes: expect.objectContaining({ 'apg.error.codes': ['SESSION_NOT_FOUND'] }),
        },
        {
          ...common,
          name: 'mutation endSession',
          status: SpanStatusCode.UNSET,
          attributes: { 'graphql.operation.type': 'mutation', 'session.id': sessionId },
        },
      ]),
    );
  });

  it('marks a span whose operation failed on the gateway side as an error', async () => {
    const { gw, exporter } = await tracedGateway(store);
    gw.app.eventLog.getSession = () => Promise.reject(new TypeError('store exploded'));
    const sessionId = `s-${randomUUID()}`;
    const failed = await graphql(gw.url, PUBLISH, { sessionId, event: { progress: {} } }, USER);
    expect(failed.errors).toHaveLength(1);

    const [span] = await finishedSpans(gw, exporter);
    expect(span).toMatchObject({ name: 'mutation publishAgentEvent', status: { code: SpanStatusCode.ERROR }, attributes: { 'session.id': sessionId } });
    expect(span!.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([['exception', 'store exploded']]);
  });
});

describe('tracing over OTLP', () => {
  it('posts the spans as OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, with the configured headers', async () => {
    const posts: { url: string; type: string | undefined; apiKey: string | undefined; body: Buffer }[] = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        posts.push({ url: request.url!, type: request.headers['content-type'], apiKey: request.headers['api_key'] as string, body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => collector.close(() => resolve())));
    const { port } = collector.address() as AddressInfo;
    const { tracing } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: 'api_key=k%201' }, false);
    const gw = await startGateway({ store: 'memory', config: { tracing } });
    onTestFinished(() => gw.stop());

    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, START_SESSION, { sessionId }, USER)).errors).toBeUndefined();
    await gw.app.tracing!.flush();

    expect(posts.map(({ url, type, apiKey }) => ({ url, type, apiKey }))).toEqual([{ url: '/v1/traces', type: 'application/x-protobuf', apiKey: 'k 1' }]);
    const body = posts[0]!.body.toString('latin1');
    for (const text of ['session.id', sessionId, 'mutation startSession', 'agent-progress-gateway']) expect(body).toContain(text);
  });
});

describe('tracing switched off', () => {
  it.each([
    ['no OTEL variables', {}],
    ['OTEL_SDK_DISABLED=true', { ...PHOENIX_ENV, OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { ...PHOENIX_ENV, OTEL_TRACES_EXPORTER: 'none' }],
    ['only a service name', { OTEL_SERVICE_NAME: 'apg' }],
  ])('starts no SDK with %s', async (_name, env) => {
    const config = loadConfig(env, false);
    expect(config.tracing).toBeUndefined();
    const gw = await startGateway({ store: 'memory', config: { tracing: config.tracing } });
    onTestFinished(() => gw.stop());
    expect(gw.app.tracing).toBeUndefined();
  });
});
