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
  /** JWT authentication; undefined runs the development identity (never in production). */
  auth: AuthConfig | undefined;
  /**
   * `PUBLISH_TOKEN_SECRET`: signs the session-scoped publish tokens `startSession` hands out (at least 32
   * characters; required with authentication in production). Unset: a random secret per process, so tokens do not
   * survive a restart or work on another replica.
   */
  publishTokenSecret: string | undefined;
  /** `PUBLISH_TOKEN_TTL_SECONDS`: how long a publish token is valid. @default 86400 */
  publishTokenTtlMs: number;
}

/** Where user and agent tokens come from: exactly one of `secret`, `publicKey`, `jwksUrl`. */
export interface AuthConfig {
  /** `JWT_SECRET`: HS256 shared secret (at least 32 characters). */
  secret?: string;
  /** `JWT_PUBLIC_KEY`: PEM public key (RS*, PS*, ES*, EdDSA). */
  publicKey?: string;
  /** `JWT_JWKS_URL`: the identity provider's JWK Set. */
  jwksUrl?: string;
  /** `JWT_ISSUER`: required `iss`, when set. */
  issuer?: string;
  /** `JWT_AUDIENCE`: required `aud`, when set. */
  audience?: string;
  /** `JWT_ROLE_CLAIM`: the claim that marks agents. @default 'role' */
  roleClaim: string;
  /** `JWT_AGENT_ROLE`: the value of that claim for agents. @default 'agent' */
  agentRole: string;
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
  auth: undefined,
  publishTokenSecret: undefined,
  publishTokenTtlMs: 86_400_000,
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
  const auth = loadAuthConfig(env);
  // Without authentication anyone could read any session by claiming its owner's id: never in production.
  if (production && !auth) {
    throw new ConfigError('NODE_ENV=production requires authentication: set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
  }
  const publishTokenSecret = env['PUBLISH_TOKEN_SECRET'] || undefined;
  if (production && !publishTokenSecret) {
    throw new ConfigError('NODE_ENV=production requires PUBLISH_TOKEN_SECRET (at least 32 characters), shared by every replica');
  }
  if (publishTokenSecret !== undefined && publishTokenSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`PUBLISH_TOKEN_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
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
    auth,
    publishTokenSecret,
    publishTokenTtlMs: Math.round(numeric(env, 'PUBLISH_TOKEN_TTL_SECONDS', DEFAULT_CONFIG.publishTokenTtlMs / 1000, { min: 1 }) * 1000),
  });
}

/** Secrets shorter than this are guessable by brute force (HS256 wants at least 256 bits). */
const MIN_SECRET_LENGTH = 32;

function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig | undefined {
  const sources = { JWT_SECRET: env['JWT_SECRET'], JWT_PUBLIC_KEY: env['JWT_PUBLIC_KEY'], JWT_JWKS_URL: env['JWT_JWKS_URL'] };
  const set = Object.entries(sources).filter(([, value]) => value);
  if (set.length === 0) return undefined;
  if (set.length > 1) throw new ConfigError(`set only one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL, got ${set.map(([name]) => name).join(' and ')}`);
  const { JWT_SECRET: secret, JWT_PUBLIC_KEY: publicKey, JWT_JWKS_URL: jwksUrl } = sources;
  if (secret && secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  if (publicKey && !publicKey.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError('JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
  if (jwksUrl && !URL.canParse(jwksUrl)) throw new ConfigError(`JWT_JWKS_URL must be a URL, got "${jwksUrl}"`);
  return Object.freeze({
    ...(secret ? { secret } : {}),
    ...(publicKey ? { publicKey } : {}),
    ...(jwksUrl ? { jwksUrl } : {}),
    ...(env['JWT_ISSUER'] ? { issuer: env['JWT_ISSUER'] } : {}),
    ...(env['JWT_AUDIENCE'] ? { audience: env['JWT_AUDIENCE'] } : {}),
    roleClaim: env['JWT_ROLE_CLAIM'] || 'role',
    agentRole: env['JWT_AGENT_ROLE'] || 'agent',
  });
}
