import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../src/config.js';

const SECRET = 'a-jwt-secret-of-at-least-32-characters';
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
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    const env = Object.fromEntries(
      ['PORT', 'HOST', 'REDIS_URL', 'SESSION_TTL_SECONDS', 'HISTORY_MAX_EVENTS', 'MAX_EVENT_BYTES', 'REQUEST_QUEUE_KEY', 'IDLE_CHECK_SECONDS', 'SUBSCRIBER_BUFFER', 'LOG_LEVEL'].map(
        (name) => [name, ''],
      ),
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
      requestQueueKey: 'queue:mine',
      idleCheckMs: 5_000,
      subscriberBuffer: 64,
      logLevel: 'debug',
      logPretty: false,
      auth: { secret: SECRET, issuer: 'https://idp.example', audience: 'progress', roleClaim: 'kind', agentRole: 'robot' },
      publishTokenSecret: OTHER_SECRET,
      publishTokenTtlMs: 600_000,
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
  ] as const)('refuses a bad %s, naming the variable and the value', (name, values) => {
    for (const value of values) {
      const error = configError({ [name]: value });
      expect(error.name).toBe('ConfigError');
      expect(error.message).toContain(name);
      expect(error.message).toContain(`"${value}"`);
    }
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
