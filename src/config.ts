/**
 * The only reader of `process.env`. Everything else receives a `GatewayConfig`.
 * Each variable is documented in the README's configuration table.
 */
export interface GatewayConfig {
  /** `PORT`. @default 4000 */
  port: number;
  /** `HOST`. @default '0.0.0.0' */
  host: string;
  /** `REDIS_URL`; unset runs the embedded in-process log (one replica only). */
  redisUrl: string | undefined;
  /** `NODE_ENV=production`. */
  production: boolean;
  /** `SESSION_TTL_SECONDS`: a session and its history expire after this long without an event. @default 86400 */
  sessionTtlMs: number;
  /** `HISTORY_MAX_EVENTS`: events retained per session (approximately, on Redis). @default 10000 */
  historyMaxEvents: number;
  /** `MAX_EVENT_BYTES`: largest event (JSON) accepted from agents. @default 65536 */
  maxEventBytes: number;
  /** `REQUEST_QUEUE_KEY`: Redis list that `submitRequest` pushes jobs onto. @default 'queue:agent-requests' */
  requestQueueKey: string;
  /** `IDLE_CHECK_SECONDS`: how often a quiet subscription checks that its session has not expired. @default 30 */
  idleCheckMs: number;
  /** `SUBSCRIBER_BUFFER`: live events buffered per subscription before it refills from history. @default 1000 */
  subscriberBuffer: number;
  /** `LOG_LEVEL`. @default 'info' */
  logLevel: string;
  /** `LOG_FORMAT`: `pretty` or `json`. @default pretty on a terminal outside production, else json */
  logPretty: boolean;
}

export const DEFAULT_CONFIG: GatewayConfig = Object.freeze({
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = positiveNumber(env, name, fallback);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name} must be an integer of at least ${min}, got "${env[name]}"`);
  return value;
}

/** Reads and checks the environment once, at start-up; a bad value stops the process naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, isTerminal = Boolean(process.stdout.isTTY)): GatewayConfig {
  const production = env['NODE_ENV'] === 'production';
  if (production) {
    // Without authentication anyone could read any session by claiming its owner's id: never in production.
    throw new ConfigError(
      'NODE_ENV=production requires authentication (JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL), which this version does not support yet; ' +
        'unset NODE_ENV to run with the development identity',
    );
  }
  const logFormat = env['LOG_FORMAT'];
  if (logFormat !== undefined && logFormat !== 'pretty' && logFormat !== 'json') {
    throw new ConfigError(`LOG_FORMAT must be "pretty" or "json", got "${logFormat}"`);
  }
  const port = integer(env, 'PORT', DEFAULT_CONFIG.port, 0);
  if (port > 65_535) throw new ConfigError(`PORT must be at most 65535, got "${env['PORT']}"`);
  return Object.freeze({
    port,
    host: env['HOST'] || DEFAULT_CONFIG.host,
    redisUrl: env['REDIS_URL'] || undefined,
    production,
    sessionTtlMs: positiveNumber(env, 'SESSION_TTL_SECONDS', DEFAULT_CONFIG.sessionTtlMs / 1000) * 1000,
    historyMaxEvents: integer(env, 'HISTORY_MAX_EVENTS', DEFAULT_CONFIG.historyMaxEvents, 1),
    maxEventBytes: integer(env, 'MAX_EVENT_BYTES', DEFAULT_CONFIG.maxEventBytes, 1024),
    requestQueueKey: env['REQUEST_QUEUE_KEY'] || DEFAULT_CONFIG.requestQueueKey,
    idleCheckMs: positiveNumber(env, 'IDLE_CHECK_SECONDS', DEFAULT_CONFIG.idleCheckMs / 1000) * 1000,
    subscriberBuffer: integer(env, 'SUBSCRIBER_BUFFER', DEFAULT_CONFIG.subscriberBuffer, 1),
    logLevel: env['LOG_LEVEL'] || DEFAULT_CONFIG.logLevel,
    logPretty: logFormat ? logFormat === 'pretty' : isTerminal && !production,
  });
}
