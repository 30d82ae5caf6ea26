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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Shortest TTL or check interval accepted: tests use sub-second values, zero would disable the feature. */
const MIN_SECONDS = 0.05;

/** A numeric variable, or the fallback when unset; anything else stops start-up naming the variable. */
function numeric(env: NodeJS.ProcessEnv, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const fits = Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!fits) throw new ConfigError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`);
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
  const logLevel = env['LOG_LEVEL'] || DEFAULT_CONFIG.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const logFormat = env['LOG_FORMAT'];
  if (logFormat !== undefined && logFormat !== 'pretty' && logFormat !== 'json') {
    throw new ConfigError(`LOG_FORMAT must be "pretty" or "json", got "${logFormat}"`);
  }
  return Object.freeze({
    port: numeric(env, 'PORT', DEFAULT_CONFIG.port, { integer: true, max: 65_535 }),
    host: env['HOST'] || DEFAULT_CONFIG.host,
    redisUrl: env['REDIS_URL'] || undefined,
    production,
    // Whole milliseconds: Redis PEXPIRE takes integers (1.001 s * 1000 is 1000.9999…).
    sessionTtlMs: Math.round(numeric(env, 'SESSION_TTL_SECONDS', DEFAULT_CONFIG.sessionTtlMs / 1000, { min: MIN_SECONDS }) * 1000),
    historyMaxEvents: numeric(env, 'HISTORY_MAX_EVENTS', DEFAULT_CONFIG.historyMaxEvents, { integer: true, min: 1 }),
    maxEventBytes: numeric(env, 'MAX_EVENT_BYTES', DEFAULT_CONFIG.maxEventBytes, { integer: true, min: 1024 }),
    requestQueueKey: env['REQUEST_QUEUE_KEY'] || DEFAULT_CONFIG.requestQueueKey,
    idleCheckMs: Math.round(numeric(env, 'IDLE_CHECK_SECONDS', DEFAULT_CONFIG.idleCheckMs / 1000, { min: MIN_SECONDS }) * 1000),
    subscriberBuffer: numeric(env, 'SUBSCRIBER_BUFFER', DEFAULT_CONFIG.subscriberBuffer, { integer: true, min: 1 }),
    logLevel,
    logPretty: logFormat ? logFormat === 'pretty' : isTerminal && !production,
  });
}
