import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { inject, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { buildApp, GRAPHQL_PATH, type App, type AppOptions } from '../../src/app.js';
import { DEFAULT_CONFIG, type GatewayConfig } from '../../src/config.js';
import { startRedisServer } from './redis-server.js';

export type Store = 'memory' | 'redis';
export const STORES: Store[] = ['memory', 'redis'];

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface TestGateway {
  url: string;
  wsUrl: string;
  app: App;
  /** The Redis this gateway uses (its private one, if it got one); undefined on the memory store. */
  redisUrl: string | undefined;
  /** Every log line of this gateway, parsed. */
  logs: LogRecord[];
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  store: Store;
  redisUrl?: string;
  config?: Partial<GatewayConfig>;
  /** Receives the spans when `config.tracing` is set. */
  spanExporter?: AppOptions['spanExporter'];
  /** Where the built console is (a test builds its own). */
  consoleDir?: AppOptions['consoleDir'];
}

/** Limits the Redis Function library bakes in when it loads: one value per Redis server, last loader wins. */
const LIBRARY_LIMITS = ['historyMaxEvents', 'sessionTtlMs', 'maxEventBytes', 'maxPublishBatch', 'idempotencyWindowMs'] as const;

/**
 * A gateway in this process on a free port, logging into memory. On Redis, a gateway with non-default library
 * limits gets a private redis-server, so it cannot change the limits under tests sharing the run's server.
 */
export async function startGateway({ store, redisUrl, config = {}, spanExporter, consoleDir }: TestGatewayOptions): Promise<TestGateway> {
  if (store === 'redis' && !redisUrl) throw new Error('a redis gateway needs redisUrl');
  const privateRedis =
    store === 'redis' && LIBRARY_LIMITS.some((limit) => config[limit] !== undefined && config[limit] !== DEFAULT_CONFIG[limit])
      ? await startRedisServer()
      : undefined;
  if (privateRedis) redisUrl = privateRedis.url;
  const logs: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const app = await buildApp(
    {
      ...DEFAULT_CONFIG,
      host: '127.0.0.1',
      port: 0,
      // Its own job queue: tests share the run's Redis, and one test must never pop another's jobs.
      requestQueueKey: `queue:test-${randomUUID()}`,
      ...config,
      redisUrl: store === 'redis' ? redisUrl : undefined,
    },
    { log: pino({ level: 'debug' }, sink), ...(spanExporter ? { spanExporter } : {}), ...(consoleDir ? { consoleDir } : {}) },
  );
  const port = await app.start();
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://127.0.0.1:${port}${GRAPHQL_PATH}`,
    app,
    redisUrl: store === 'redis' ? redisUrl : undefined,
    logs,
    stop: () => (stopped ??= app.stop().then(() => privateRedis?.stop())),
  };
}

/** Inside a test: a gateway on `store` (the run's Redis for 'redis'), stopped when the test finishes. */
export async function gatewayForTest(store: Store, config: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  const gw = await startGateway({ store, redisUrl: inject('redisUrl'), config });
  onTestFinished(() => gw.stop());
  return gw;
}

/**
 * Inside a test: a gateway on the run's Redis and an ioredis client on the same server, both disposed when the
 * test finishes.
 */
export async function redisGatewayForTest(config: Partial<GatewayConfig> = {}): Promise<{ gw: TestGateway; redis: Redis }> {
  const gw = await startGateway({ store: 'redis', redisUrl: inject('redisUrl'), config });
  onTestFinished(() => gw.stop());
  const redis = new Redis(gw.redisUrl!);
  onTestFinished(async () => {
    await redis.quit();
  });
  return { gw, redis };
}
