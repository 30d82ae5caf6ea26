import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createYoga } from 'graphql-yoga';
import { Gauge } from 'prom-client';
import { WebSocketServer } from 'ws';
import { createAuthenticator } from './auth/authenticator.js';
import type { Principal } from './auth/principal.js';
import { createPublishTokens } from './auth/publish-tokens.js';
import type { EventLog } from './bus/event-log.js';
import { createMemoryEventLog } from './bus/memory.js';
import { createRedisEventLog } from './bus/redis.js';
import type { GatewayConfig } from './config.js';
import { createRateLimiter } from './limits/rate-limiter.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { graphiqlPage } from './plugins/graphiql-page.js';
import { useCodedHttpRefusals } from './plugins/use-coded-http-refusals.js';
import { parseJsonBody } from './http/parse-json-body.js';
import { readBodyFirst } from './http/read-body-first.js';
import { useCompiledOperations } from './plugins/compiled-operations.js';
import { CompiledSubscriptions } from './plugins/compiled-subscriptions.js';
import { useConsole } from './plugins/use-console.js';
import { DirectSubscriptionErrors, type MaskedErrorsOptions } from './plugins/direct-subscriptions.js';
import { useDisableIntrospection } from './plugins/use-disable-introspection.js';
import { Drain, useDrain } from './plugins/use-drain.js';
import { useErrorCodes } from './plugins/use-error-codes.js';
import { ErrorLogging } from './plugins/use-error-logging.js';
import { useMetricsEndpoint } from './plugins/use-metrics-endpoint.js';
import { useReadiness } from './plugins/use-readiness.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { useRequestBodyLimit, type BodyLimitContext } from './plugins/use-request-body-limit.js';
import { useSseUpdates } from './plugins/use-sse-updates.js';
import { useTracing } from './plugins/use-tracing.js';
import type { GatewayContext } from './schema/context.js';
import { schema } from './schema/index.js';
import { startTracing, type Tracing } from './telemetry.js';
import { useGraphQLWs } from './ws/graphql-ws.js';

export const GRAPHQL_PATH = '/graphql';

export interface App {
  /** Listens on `config.port` (0 picks a free one); resolves with the bound port. */
  start(): Promise<number>;
  /**
   * Drains, within `config.shutdownTimeoutMs`: readiness fails at once, new connections and requests are refused,
   * SSE streams end, operations executing finish, then WebSockets are closed with 1001 (clients reconnect elsewhere
   * and resume) and the HTTP server closes; at the deadline whatever is still open is destroyed. Then the event
   * log's connections quit. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  eventLog: EventLog;
  metrics: GatewayMetrics;
  log: Logger;
  /** The OpenTelemetry SDK, when the `OTEL_*` variables switched tracing on (`config.tracing`). */
  tracing: Tracing | undefined;
}

export interface AppOptions {
  log?: Logger;
  /** Receives the spans instead of the exporters `config.tracing` names (tests). */
  spanExporter?: SpanExporter;
  /** Where the built console is, when `config.console` serves it. @default dist/console */
  consoleDir?: string;
}

export async function buildApp(config: GatewayConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.logLevel, pretty: config.logPretty });
  const metrics = createMetrics();
  const tracing = config.tracing && (await startTracing(config.tracing, options.spanExporter));
  const eventLog = config.redisUrl
    ? await createRedisEventLog({ ...config, url: config.redisUrl, log, metrics })
    : createMemoryEventLog(config);
  const publishTokens = createPublishTokens(config.publishTokenSecret, config.publishTokenTtlMs);
  const authenticator = createAuthenticator(config.auth, publishTokens);
  const publishRate = createRateLimiter({ ratePerSecond: config.publishRatePerSession, burst: config.publishBurstPerSession });
  const services = { config, eventLog, log, metrics, authenticator, publishTokens, publishRate };
  const drain = new Drain();
  const errorLogging = new ErrorLogging(log);
  const maskedErrors: MaskedErrorsOptions = { isDev: !config.production };
  // Tracing counts every result a subscription delivers, so it needs them all to pass through the plugins.
  const compiledSubscriptions = new CompiledSubscriptions(tracing === undefined ? new DirectSubscriptionErrors(errorLogging, maskedErrors) : undefined);

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: async (initial): Promise<GatewayContext> => ({
      // WebSocket operations carry the principal established when the socket connected; HTTP and SSE the request.
      principal: 'principal' in initial ? (initial['principal'] as Principal) : await authenticator.ofRequest(initial.request),
      services,
    }),
    maskedErrors,
    graphiql: config.graphiql && { title: 'Agent Progress Gateway', subscriptionsProtocol: 'WS' },
    renderGraphiQL: graphiqlPage(config.graphiqlAssets),
    // The HTTP server reads and counts every body first (read-body-first.ts); useRequestBodyLimit answers for it.
    maxRequestBodySize: false,
    batching: config.maxBatchSize > 0 && { limit: config.maxBatchSize },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' ')),
    },
    plugins: [
      useCodedHttpRefusals(config.maxDocumentBytes),
      useErrorCodes(),
      errorLogging.plugin(),
      tracing !== undefined && useTracing(tracing.tracer),
      useReadiness(() => (drain.draining ? 'shutting down' : eventLog.isHealthy() ? undefined : 'event store unreachable')),
      useMetricsEndpoint(metrics.registry),
      config.console && useConsole(options.consoleDir),
      useQueryLimits({
        maxDepth: config.maxQueryDepth,
        maxAliases: config.maxQueryAliases,
        maxTokens: config.maxQueryTokens,
        maxDirectives: config.maxQueryDirectives,
      }),
      !config.introspection && useDisableIntrospection(),
      compiledSubscriptions.plugin(),
      useCompiledOperations(),
      // Last, so it counts executions however the plugins before it wrap them.
      useDrain(drain),
      // After useDrain, which refuses new requests (these too) while draining; streams already open end on drain.
      useSseUpdates(services, drain.signal),
      useRequestBodyLimit(),
    ],
  });

  // Responses in progress, so a drain can tell them to close their connection when done.
  const responses = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    // While draining, no connection is kept alive for another request.
    if (drain.draining) response.shouldKeepAlive = false;
    responses.add(response);
    response.once('close', () => {
      responses.delete(response);
      // A connection kept alive by a response that began before the drain (an SSE stream) is idle now: close it.
      if (drain.draining) setImmediate(() => server.closeIdleConnections());
    });
    // A request that arrived before the drain is served even if its body completes after it started.
    const admittedBeforeDrain = !drain.draining;
    void readBodyFirst(request, config.maxRequestBytes).then((reading) => {
      if (reading === 'aborted') return;
      const bodyTooLarge = reading === 'too-large';
      // The rest of an oversized body is never read: the connection ends after the 413.
      if (bodyTooLarge) response.shouldKeepAlive = false;
      if (reading === 'read') parseJsonBody(request);
      void yoga(request, response, { admittedBeforeDrain, bodyTooLarge } satisfies BodyLimitContext & { admittedBeforeDrain: boolean });
    });
  });
  // A graphql-ws message is a request too: one over the limit closes the socket with 1009.
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: config.maxRequestBytes });
  const graphqlWs = useGraphQLWs(yoga, wss, authenticator, config, log, compiledSubscriptions, () => metrics.slowConsumersClosed.inc());
  new Gauge({
    name: 'apg_websocket_connections',
    help: 'Open WebSocket connections, acknowledged or not (MAX_CONNECTIONS caps them).',
    registers: [metrics.registry],
    collect() {
      this.set(wss.clients.size);
    },
  });

  let stopping: Promise<void> | undefined;
  return {
    eventLog,
    metrics,
    log,
    tracing,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          log.info({ port, graphql: GRAPHQL_PATH, store: config.redisUrl ? 'redis' : 'memory' }, 'gateway listening');
          resolve(port);
        });
      }),
    stop: () => (stopping ??= shutdown()),
  };

  async function shutdown(): Promise<void> {
    const started = Date.now();
    const deadlineMs = config.shutdownTimeoutMs;
    drain.start(); // readiness fails, new requests get UNAVAILABLE, SSE streams end
    log.info({ deadlineMs, websockets: wss.clients.size, requests: responses.size, executing: drain.executing }, 'draining');
    // New TCP connections are refused; idle keep-alive connections close; WebSocket upgrades are refused.
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const response of responses) if (!response.headersSent) response.shouldKeepAlive = false;
    server.closeIdleConnections();
    void graphqlWs.stopAccepting();

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
    const drained = (async () => {
      // Queries and mutations already executing (HTTP or WebSocket) finish and send their results first…
      await drain.idle();
      await new Promise((resolve) => setImmediate(resolve));
      // …then every WebSocket is told to go elsewhere, and the last HTTP responses complete.
      await graphqlWs.goAway();
      await httpClosed;
      return 'drained' as const;
    })();
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      const websockets = graphqlWs.terminate();
      const requests = responses.size;
      server.closeAllConnections();
      log.warn({ deadlineMs, websockets, requests, executing: drain.executing }, 'shutdown deadline reached: destroyed the connections still open');
    }
    await eventLog.close();
    await tracing?.shutdown();
    log.info({ outcome, ms: Date.now() - started }, 'stopped');
  }
}
