import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
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
import { useCodedHttpRefusals } from './plugins/use-coded-http-refusals.js';
import { useDisableIntrospection } from './plugins/use-disable-introspection.js';
import { useErrorCodes } from './plugins/use-error-codes.js';
import { useMetricsEndpoint } from './plugins/use-metrics-endpoint.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import type { GatewayContext } from './schema/context.js';
import { schema } from './schema/index.js';
import { useGraphQLWs } from './ws/graphql-ws.js';

export const GRAPHQL_PATH = '/graphql';

export interface App {
  /** Listens on `config.port` (0 picks a free one); resolves with the bound port. */
  start(): Promise<number>;
  /** Closes sockets (1001, so clients reconnect elsewhere), the HTTP server and the event log. */
  stop(): Promise<void>;
  eventLog: EventLog;
  metrics: GatewayMetrics;
  log: Logger;
}

export interface AppOptions {
  log?: Logger;
}

export async function buildApp(config: GatewayConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({ level: config.logLevel, pretty: config.logPretty });
  const metrics = createMetrics();
  const eventLog = config.redisUrl
    ? await createRedisEventLog({ ...config, url: config.redisUrl, log, metrics })
    : createMemoryEventLog(config);
  const publishTokens = createPublishTokens(config.publishTokenSecret, config.publishTokenTtlMs);
  const authenticator = createAuthenticator(config.auth, publishTokens);
  const publishRate = createRateLimiter({ ratePerSecond: config.publishRatePerSession, burst: config.publishBurstPerSession });
  const services = { config, eventLog, log, metrics, authenticator, publishTokens, publishRate };

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: async (initial): Promise<GatewayContext> => ({
      // WebSocket operations carry the principal established when the socket connected; HTTP and SSE the request.
      principal: 'principal' in initial ? (initial['principal'] as Principal) : await authenticator.ofRequest(initial.request),
      services,
    }),
    maskedErrors: { isDev: !config.production },
    graphiql: config.graphiql && { title: 'Agent Progress Gateway', subscriptionsProtocol: 'WS' },
    // Yoga counts the bytes as they arrive, so a chunked body without Content-Length is cut off at the limit too.
    maxRequestBodySize: config.maxRequestBytes,
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
      useReadinessCheck({ endpoint: '/ready', check: () => eventLog.isHealthy() }),
      useMetricsEndpoint(metrics.registry),
      useQueryLimits({
        maxDepth: config.maxQueryDepth,
        maxAliases: config.maxQueryAliases,
        maxTokens: config.maxQueryTokens,
        maxDirectives: config.maxQueryDirectives,
      }),
      !config.introspection && useDisableIntrospection(),
    ],
  });

  const server: Server = createServer(yoga);
  // A graphql-ws message is a request too: one over the limit closes the socket with 1009.
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: config.maxRequestBytes });
  const graphqlWs = useGraphQLWs(yoga, wss, authenticator, config, log);
  new Gauge({
    name: 'apg_websocket_connections',
    help: 'Open WebSocket connections, acknowledged or not (MAX_CONNECTIONS caps them).',
    registers: [metrics.registry],
    collect() {
      this.set(wss.clients.size);
    },
  });

  return {
    eventLog,
    metrics,
    log,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          log.info({ port, graphql: GRAPHQL_PATH, store: config.redisUrl ? 'redis' : 'memory' }, 'gateway listening');
          resolve(port);
        });
      }),
    async stop() {
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await eventLog.close();
    },
  };
}
