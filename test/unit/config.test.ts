import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../src/config.js';

const SECRET = 'a-jwt-secret-of-at-least-32-characters';

const LIMIT_VARIABLES = [
  'MAX_REQUEST_BYTES',
  'MAX_BATCH_SIZE',
  'MAX_CONNECTIONS',
  'MAX_CONNECTIONS_PER_USER',
  'MAX_SUBSCRIPTIONS_PER_CONNECTION',
  'PUBLISH_RATE_PER_SESSION',
  'PUBLISH_BURST_PER_SESSION',
  'MAX_QUERY_DEPTH',
  'MAX_QUERY_ALIASES',
  'MAX_QUERY_TOKENS',
  'MAX_QUERY_DIRECTIVES',
  'MAX_DOCUMENT_BYTES',
  'CONNECTION_INIT_TIMEOUT_SECONDS',
];
const OTHER_SECRET = 'a-publish-token-secret-of-32-chars-or-more';

/** The ConfigError `env` causes; fails the test when it loads. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env, false);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('uses the documented defaults with an empty environment', () => {
    const config = loadConfig({}, false);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      redisUrl: undefined,
      production: false,
      sessionTtlMs: 86_400_000,
      historyMaxEvents: 10_000,
      maxEventBytes: 65_536,
      requestQueueKey: 'queue:agent-requests',
      idleCheckMs: 30_000,
      subscriberBuffer: 1_000,
      logLevel: 'info',
      logPretty: false,
      maxRequestBytes: 1_048_576,
      maxBatchSize: 0,
      maxConnections: 10_000,
      maxConnectionsPerUser: 100,
      maxSubscriptionsPerConnection: 100,
      publishRatePerSession: 100,
      publishBurstPerSession: 200,
      maxQueryDepth: 8,
      maxQueryAliases: 15,
      maxQueryTokens: 1_000,
      maxQueryDirectives: 50,
      maxDocumentBytes: 16_384,
      connectionInitTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      graphiql: true,
      graphiqlAssets: 'bundled',
      introspection: true,
      console: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    const env = Object.fromEntries(
      [
        'PORT',
        'HOST',
        'REDIS_URL',
        'SESSION_TTL_SECONDS',
        'HISTORY_MAX_EVENTS',
        'MAX_EVENT_BYTES',
        'REQUEST_QUEUE_KEY',
        'IDLE_CHECK_SECONDS',
        'SUBSCRIBER_BUFFER',
        'LOG_LEVEL',
        ...LIMIT_VARIABLES,
        'SHUTDOWN_TIMEOUT_SECONDS',
        'GRAPHIQL',
        'GRAPHIQL_ASSETS',
        'INTROSPECTION',
        'CONSOLE',
      ].map((name) => [name, '']),
    );
    expect(loadConfig(env, false)).toEqual(DEFAULT_CONFIG);
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        PORT: '8080',
        HOST: '127.0.0.1',
        REDIS_URL: 'redis://cache:6380/2',
        SESSION_TTL_SECONDS: '3600',
        HISTORY_MAX_EVENTS: '250',
        MAX_EVENT_BYTES: '2048',
        MAX_PUBLISH_BATCH: '20',
        IDEMPOTENCY_WINDOW_SECONDS: '30',
        REQUEST_QUEUE_KEY: 'queue:mine',
        IDLE_CHECK_SECONDS: '5',
        SUBSCRIBER_BUFFER: '64',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        NODE_ENV: 'development',
        JWT_SECRET: SECRET,
        JWT_ISSUER: 'https://idp.example',
        JWT_AUDIENCE: 'progress',
        JWT_ROLE_CLAIM: 'kind',
        JWT_AGENT_ROLE: 'robot',
        PUBLISH_TOKEN_SECRET: OTHER_SECRET,
        PUBLISH_TOKEN_TTL_SECONDS: '600',
        MAX_REQUEST_BYTES: '4096',
        MAX_BATCH_SIZE: '5',
        MAX_CONNECTIONS: '500',
        MAX_CONNECTIONS_PER_USER: '3',
        MAX_SUBSCRIPTIONS_PER_CONNECTION: '7',
        PUBLISH_RATE_PER_SESSION: '2.5',
        PUBLISH_BURST_PER_SESSION: '10',
        MAX_QUERY_DEPTH: '4',
        MAX_QUERY_ALIASES: '2',
        MAX_QUERY_TOKENS: '300',
        MAX_QUERY_DIRECTIVES: '6',
        MAX_DOCUMENT_BYTES: '4096',
        CONNECTION_INIT_TIMEOUT_SECONDS: '1.5',
        SEND_TIMEOUT_SECONDS: '2.5',
        SHUTDOWN_TIMEOUT_SECONDS: '25',
        GRAPHIQL: 'false',
        GRAPHIQL_ASSETS: 'cdn',
        INTROSPECTION: '0',
        CONSOLE: 'false',
      },
      false,
    );
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://cache:6380/2',
      production: false,
      sessionTtlMs: 3_600_000,
      historyMaxEvents: 250,
      maxEventBytes: 2048,
      maxPublishBatch: 20,
      idempotencyWindowMs: 30_000,
      requestQueueKey: 'queue:mine',
      idleCheckMs: 5_000,
      subscriberBuffer: 64,
      logLevel: 'debug',
      logPretty: false,
      auth: { secret: SECRET, issuer: 'https://idp.example', audience: 'progress', roleClaim: 'kind', agentRole: 'robot' },
      publishTokenSecret: OTHER_SECRET,
      publishTokenTtlMs: 600_000,
      maxRequestBytes: 4096,
      maxBatchSize: 5,
      maxConnections: 500,
      maxConnectionsPerUser: 3,
      maxSubscriptionsPerConnection: 7,
      publishRatePerSession: 2.5,
      publishBurstPerSession: 10,
      maxQueryDepth: 4,
      maxQueryAliases: 2,
      maxQueryTokens: 300,
      maxQueryDirectives: 6,
      maxDocumentBytes: 4096,
      connectionInitTimeoutMs: 1_500,
      sendTimeoutMs: 2_500,
      shutdownTimeoutMs: 25_000,
      graphiql: false,
      graphiqlAssets: 'cdn',
      introspection: false,
      console: false,
    });
  });

  it('takes exactly one JWT key source, each checked', () => {
    expect(loadConfig({ JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }, false).auth).toEqual({
      jwksUrl: 'https://idp.example/.well-known/jwks.json',
      roleClaim: 'role',
      agentRole: 'agent',
    });
    expect(configError({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp.example/jwks' }).message).toMatch(/JWT_SECRET and JWT_JWKS_URL/);
    expect(configError({ JWT_SECRET: 'short' }).message).toContain('JWT_SECRET');
    expect(configError({ JWT_PUBLIC_KEY: 'not a pem' }).message).toContain('JWT_PUBLIC_KEY');
    expect(configError({ JWT_JWKS_URL: 'not a url' }).message).toContain('JWT_JWKS_URL');
    expect(configError({ PUBLISH_TOKEN_SECRET: 'short' }).message).toContain('PUBLISH_TOKEN_SECRET');
  });

  it('accepts the boundary values', () => {
    expect(loadConfig({ PORT: '0' }, false).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }, false).port).toBe(65_535);
    expect(loadConfig({ HISTORY_MAX_EVENTS: '1' }, false).historyMaxEvents).toBe(1);
    expect(loadConfig({ MAX_EVENT_BYTES: '1024' }, false).maxEventBytes).toBe(1024);
    expect(loadConfig({ SUBSCRIBER_BUFFER: '1' }, false).subscriberBuffer).toBe(1);
    expect(loadConfig({ SESSION_TTL_SECONDS: '0.05' }, false).sessionTtlMs).toBe(50);
    expect(loadConfig({ IDLE_CHECK_SECONDS: '0.25' }, false).idleCheckMs).toBe(250);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '0.05' }, false).shutdownTimeoutMs).toBe(50);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '3600' }, false).shutdownTimeoutMs).toBe(3_600_000);
  });

  it('formats logs for a terminal outside production, or as LOG_FORMAT says', () => {
    expect(loadConfig({}, true).logPretty).toBe(true);
    expect(loadConfig({}, false).logPretty).toBe(false);
    expect(loadConfig({ LOG_FORMAT: 'json' }, true).logPretty).toBe(false);
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, false).logPretty).toBe(true);
  });

  it.each([
    ['PORT', ['abc', '-1', '1.5', '65536', 'Infinity']],
    ['SESSION_TTL_SECONDS', ['abc', '0', '-5', '0.01', 'Infinity', 'NaN']],
    ['HISTORY_MAX_EVENTS', ['abc', '0', '-1', '1.5']],
    ['MAX_EVENT_BYTES', ['abc', '1023', '100', '2048.5']],
    ['IDLE_CHECK_SECONDS', ['abc', '0', '-1', '0.01']],
    ['SUBSCRIBER_BUFFER', ['abc', '0', '-3', '2.5']],
    ['LOG_FORMAT', ['xml', 'JSON', 'text']],
    ['LOG_LEVEL', ['verbose', 'INFO', 'warning']],
    ['MAX_REQUEST_BYTES', ['abc', '1023', '-1', '2048.5']],
    ['MAX_BATCH_SIZE', ['abc', '-1', '1.5']],
    ['MAX_CONNECTIONS', ['abc', '0', '-1', '1.5']],
    ['MAX_CONNECTIONS_PER_USER', ['abc', '0', '2.5']],
    ['MAX_SUBSCRIPTIONS_PER_CONNECTION', ['abc', '0', '2.5']],
    ['PUBLISH_RATE_PER_SESSION', ['abc', '-1', 'Infinity']],
    ['PUBLISH_BURST_PER_SESSION', ['abc', '0', '1.5']],
    ['MAX_QUERY_DEPTH', ['abc', '0', '1.5']],
    ['MAX_QUERY_ALIASES', ['abc', '-1', '1.5']],
    ['MAX_QUERY_TOKENS', ['abc', '0', '1.5']],
    ['MAX_QUERY_DIRECTIVES', ['abc', '-1', '1.5']],
    ['MAX_DOCUMENT_BYTES', ['abc', '1023', '2.5']],
    ['CONNECTION_INIT_TIMEOUT_SECONDS', ['abc', '0', '-1', '0.01']],
    ['SHUTDOWN_TIMEOUT_SECONDS', ['abc', '0', '-1', '0.01', '3601', 'Infinity']],
    ['GRAPHIQL', ['yes', 'TRUE', 'off']],
    ['GRAPHIQL_ASSETS', ['CDN', 'inline', 'unpkg']],
    ['INTROSPECTION', ['no', 'False', 'on']],
    ['CONSOLE', ['no', 'False', 'on']],
  ] as const)('refuses a bad %s, naming the variable and the value', (name, values) => {
    for (const value of values) {
      const error = configError({ [name]: value });
      expect(error.name).toBe('ConfigError');
      expect(error.message).toContain(name);
      expect(error.message).toContain(`"${value}"`);
    }
  });

  it('accepts the limits’ boundary values: 0 turns batching, aliases, directives and the publish rate off', () => {
    expect(loadConfig({ MAX_BATCH_SIZE: '0', MAX_QUERY_ALIASES: '0', MAX_QUERY_DIRECTIVES: '0', PUBLISH_RATE_PER_SESSION: '0' }, false)).toMatchObject({
      maxBatchSize: 0,
      maxQueryAliases: 0,
      maxQueryDirectives: 0,
      publishRatePerSession: 0,
    });
    expect(loadConfig({ MAX_REQUEST_BYTES: '65537' }, false).maxRequestBytes).toBe(65_537);
    expect(loadConfig({ CONNECTION_INIT_TIMEOUT_SECONDS: '0.05' }, false).connectionInitTimeoutMs).toBe(50);
    expect(loadConfig({ MAX_CONNECTIONS: '1', MAX_CONNECTIONS_PER_USER: '1', MAX_SUBSCRIPTIONS_PER_CONNECTION: '1' }, false)).toMatchObject({
      maxConnections: 1,
      maxConnectionsPerUser: 1,
      maxSubscriptionsPerConnection: 1,
    });
  });

  it('refuses a request limit that no event of MAX_EVENT_BYTES would fit in', () => {
    const error = configError({ MAX_REQUEST_BYTES: '65536' });
    expect(error.message).toContain('MAX_REQUEST_BYTES');
    expect(error.message).toContain('MAX_EVENT_BYTES');
    expect(configError({ MAX_EVENT_BYTES: '2000000' }).message).toContain('MAX_REQUEST_BYTES');
    expect(loadConfig({ MAX_EVENT_BYTES: '2000000', MAX_REQUEST_BYTES: '4000000' }, false).maxRequestBytes).toBe(4_000_000);
  });

  it('serves GraphiQL and introspection outside production, neither in production unless asked for', () => {
    expect(loadConfig({}, false)).toMatchObject({ graphiql: true, introspection: true });
    const production = { NODE_ENV: 'production', JWT_SECRET: SECRET, PUBLISH_TOKEN_SECRET: OTHER_SECRET };
    expect(loadConfig(production, false)).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'true', INTROSPECTION: '1' }, false)).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ GRAPHIQL: 'false', INTROSPECTION: 'false' }, false)).toMatchObject({ graphiql: false, introspection: false });
  });

  it('serves the console outside production, not in production unless asked for', () => {
    expect(loadConfig({}, false).console).toBe(true);
    const production = { NODE_ENV: 'production', JWT_SECRET: SECRET, PUBLISH_TOKEN_SECRET: OTHER_SECRET };
    expect(loadConfig(production, false).console).toBe(false);
    expect(loadConfig({ ...production, CONSOLE: 'true' }, false).console).toBe(true);
    expect(loadConfig({ CONSOLE: '0' }, false).console).toBe(false);
  });

  it('keeps durations in whole milliseconds, as Redis PEXPIRE requires', () => {
    const config = loadConfig({ SESSION_TTL_SECONDS: '1.001', IDLE_CHECK_SECONDS: '0.3333' }, false);
    expect(config.sessionTtlMs).toBe(1001);
    expect(config.idleCheckMs).toBe(333);
  });

  it('refuses to start in production without authentication, naming what is missing', () => {
    expect(configError({ NODE_ENV: 'production' }).message).toMatch(/JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: SECRET }).message).toContain('PUBLISH_TOKEN_SECRET');
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, PUBLISH_TOKEN_SECRET: OTHER_SECRET }, true);
    expect(config).toMatchObject({ production: true, logPretty: false, auth: { secret: SECRET } });
  });

  it('runs with any other NODE_ENV', () => {
    for (const NODE_ENV of ['development', 'test', 'Production', '']) {
      expect(loadConfig({ NODE_ENV }, false).production).toBe(false);
    }
  });
});
