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
  /** `MAX_PUBLISH_BATCH`: most events one `publishAgentEvents` call (or `apg_publish_batch`) may carry. @default 100 */
  maxPublishBatch: number;
  /**
   * `IDEMPOTENCY_WINDOW_SECONDS`: how long a publish's idempotency key is remembered; a retry with the same key
   * within it answers the original event(s) instead of appending again. @default 600
   */
  idempotencyWindowMs: number;
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
  /**
   * `MAX_REQUEST_BYTES`: largest HTTP request body (with or without `Content-Length`; over it: 413,
   * `REQUEST_ENTITY_TOO_LARGE`) and largest WebSocket message (over it: close 1009). @default 1048576
   */
  maxRequestBytes: number;
  /** `MAX_BATCH_SIZE`: operations in one batched HTTP request (a JSON array); 0 turns batching off. @default 0 */
  maxBatchSize: number;
  /** `MAX_CONNECTIONS`: open WebSockets per process; the next is closed with 4102. @default 10000 */
  maxConnections: number;
  /**
   * `MAX_CONNECTIONS_PER_USER`: open WebSockets per principal (user, agent, or publish token's session; anonymous
   * sockets share one count) per process; the next is closed with 4103. @default 100
   */
  maxConnectionsPerUser: number;
  /**
   * `MAX_SUBSCRIPTIONS_PER_CONNECTION`: subscriptions running on one WebSocket; the next is refused with
   * `TOO_MANY_SUBSCRIPTIONS` (the socket stays). @default 100
   */
  maxSubscriptionsPerConnection: number;
  /**
   * `PUBLISH_RATE_PER_SESSION`: `publishAgentEvent` calls per second per session, per process (a token bucket);
   * over it: `RATE_LIMITED`. 0 turns the limit off. @default 100
   */
  publishRatePerSession: number;
  /** `PUBLISH_BURST_PER_SESSION`: publishes a session may make at once before the rate applies (bucket size). @default 200 */
  publishBurstPerSession: number;
  /** `MAX_QUERY_DEPTH`: deepest selection set in a document (`QUERY_TOO_DEEP`). @default 8 */
  maxQueryDepth: number;
  /** `MAX_QUERY_ALIASES`: aliases in one operation (`TOO_MANY_ALIASES`). @default 15 */
  maxQueryAliases: number;
  /** `MAX_QUERY_TOKENS`: lexical tokens in one document (`TOO_MANY_TOKENS`). @default 1000 */
  maxQueryTokens: number;
  /** `MAX_QUERY_DIRECTIVES`: directives in one operation (`TOO_MANY_DIRECTIVES`). @default 50 */
  maxQueryDirectives: number;
  /**
   * `MAX_DOCUMENT_BYTES`: longest GraphQL document, refused before parsing (`QUERY_TOO_LARGE`). Parsed documents
   * are cached by their text, so this also bounds what a caller can park in the cache. Send data as variables.
   * @default 16384
   */
  maxDocumentBytes: number;
  /** `CONNECTION_INIT_TIMEOUT_SECONDS`: a WebSocket sending no `connection_init` in time is closed with 4408. @default 10 */
  connectionInitTimeoutMs: number;
  /**
   * `SEND_TIMEOUT_SECONDS`: a WebSocket whose peer leaves a message unread this long is closed with 4104 (slow
   * consumer; it resumes with `after`), so a stalled reader cannot hold memory. @default 10
   */
  sendTimeoutMs: number;
  /**
   * `SHUTDOWN_TIMEOUT_SECONDS`: on SIGTERM the gateway drains (readiness fails, new connections are refused,
   * WebSockets are closed with 1001, requests and publishes in flight finish, SSE streams end, Redis connections
   * quit) for at most this long, then destroys what is still open and exits. Keep it below the orchestrator's grace
   * period (Kubernetes `terminationGracePeriodSeconds`, Docker `stop_grace_period`). @default 10
   */
  shutdownTimeoutMs: number;
  /** `GRAPHIQL`: serve GraphiQL at the GraphQL endpoint. @default true, false with NODE_ENV=production */
  graphiql: boolean;
  /**
   * `GRAPHIQL_ASSETS`: `bundled` serves GraphiQL with its scripts, styles, fonts and workers inlined (nothing from
   * another origin: works offline); `cdn` is Yoga's page, which loads them from unpkg.com. @default 'bundled'
   */
  graphiqlAssets: 'bundled' | 'cdn';
  /**
   * `INTROSPECTION`: answer `__schema` and `__type` (`INTROSPECTION_DISABLED` when off).
   * @default true, false with NODE_ENV=production
   */
  introspection: boolean;
  /** `CONSOLE`: serve the live progress console at `/console`. @default true, false with NODE_ENV=production */
  console: boolean;
  /** OpenTelemetry tracing, switched on by the standard `OTEL_*` variables; undefined (off) without them. */
  tracing: TracingConfig | undefined;
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
  maxPublishBatch: 100,
  idempotencyWindowMs: 600_000,
  requestQueueKey: 'queue:agent-requests',
  idleCheckMs: 30_000,
  subscriberBuffer: 1_000,
  logLevel: 'info',
  logPretty: false,
  auth: undefined,
  publishTokenSecret: undefined,
  publishTokenTtlMs: 86_400_000,
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
  sendTimeoutMs: 10_000,
  shutdownTimeoutMs: 10_000,
  graphiql: true,
  graphiqlAssets: 'bundled',
  introspection: true,
  console: true,
  tracing: undefined,
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

/** A true/false variable, or the fallback when unset. */
function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true, false, 1 or 0, got "${raw}"`);
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
  const graphiqlAssets = env['GRAPHIQL_ASSETS'] || DEFAULT_CONFIG.graphiqlAssets;
  if (graphiqlAssets !== 'bundled' && graphiqlAssets !== 'cdn') {
    throw new ConfigError(`GRAPHIQL_ASSETS must be "bundled" or "cdn", got "${graphiqlAssets}"`);
  }
  const limits = loadLimits(env);
  const maxEventBytes = numeric(env, 'MAX_EVENT_BYTES', DEFAULT_CONFIG.maxEventBytes, { integer: true, min: 1024 });
  // An event travels inside a request body (a mutation) or a WebSocket message: it could never arrive.
  if (limits.maxRequestBytes <= maxEventBytes) {
    throw new ConfigError(`MAX_REQUEST_BYTES (${limits.maxRequestBytes}) must be larger than MAX_EVENT_BYTES (${maxEventBytes})`);
  }
  return Object.freeze({
    port: numeric(env, 'PORT', DEFAULT_CONFIG.port, { integer: true, max: 65_535 }),
    host: env['HOST'] || DEFAULT_CONFIG.host,
    redisUrl: env['REDIS_URL'] || undefined,
    production,
    // Whole milliseconds: Redis PEXPIRE takes integers (1.001 s * 1000 is 1000.9999…).
    sessionTtlMs: Math.round(numeric(env, 'SESSION_TTL_SECONDS', DEFAULT_CONFIG.sessionTtlMs / 1000, { min: MIN_SECONDS }) * 1000),
    historyMaxEvents: numeric(env, 'HISTORY_MAX_EVENTS', DEFAULT_CONFIG.historyMaxEvents, { integer: true, min: 1 }),
    maxEventBytes,
    maxPublishBatch: numeric(env, 'MAX_PUBLISH_BATCH', DEFAULT_CONFIG.maxPublishBatch, { integer: true, min: 1, max: 1_000 }),
    idempotencyWindowMs: Math.round(
      numeric(env, 'IDEMPOTENCY_WINDOW_SECONDS', DEFAULT_CONFIG.idempotencyWindowMs / 1000, { min: MIN_SECONDS }) * 1000,
    ),
    requestQueueKey: env['REQUEST_QUEUE_KEY'] || DEFAULT_CONFIG.requestQueueKey,
    idleCheckMs: Math.round(numeric(env, 'IDLE_CHECK_SECONDS', DEFAULT_CONFIG.idleCheckMs / 1000, { min: MIN_SECONDS }) * 1000),
    subscriberBuffer: numeric(env, 'SUBSCRIBER_BUFFER', DEFAULT_CONFIG.subscriberBuffer, { integer: true, min: 1 }),
    logLevel,
    logPretty: logFormat ? logFormat === 'pretty' : isTerminal && !production,
    auth,
    publishTokenSecret,
    publishTokenTtlMs: Math.round(numeric(env, 'PUBLISH_TOKEN_TTL_SECONDS', DEFAULT_CONFIG.publishTokenTtlMs / 1000, { min: 1 }) * 1000),
    ...limits,
    shutdownTimeoutMs: Math.round(
      numeric(env, 'SHUTDOWN_TIMEOUT_SECONDS', DEFAULT_CONFIG.shutdownTimeoutMs / 1000, { min: MIN_SECONDS, max: 3600 }) * 1000,
    ),
    // Introspection, GraphiQL and the console map the schema for whoever asks: development aids, off in production unless asked for.
    graphiql: flag(env, 'GRAPHIQL', !production),
    graphiqlAssets,
    introspection: flag(env, 'INTROSPECTION', !production),
    console: flag(env, 'CONSOLE', !production),
    tracing: loadTracingConfig(env),
  });
}

type Limits = Pick<
  GatewayConfig,
  | 'maxRequestBytes'
  | 'maxBatchSize'
  | 'maxConnections'
  | 'maxConnectionsPerUser'
  | 'maxSubscriptionsPerConnection'
  | 'publishRatePerSession'
  | 'publishBurstPerSession'
  | 'maxQueryDepth'
  | 'maxQueryAliases'
  | 'maxQueryTokens'
  | 'maxQueryDirectives'
  | 'maxDocumentBytes'
  | 'connectionInitTimeoutMs'
  | 'sendTimeoutMs'
>;

/** The resource limits; 0 is accepted only where it means "off" (batching, the publish rate) or "none allowed". */
function loadLimits(env: NodeJS.ProcessEnv): Limits {
  const count = (name: string, fallback: number, min = 1) => numeric(env, name, fallback, { integer: true, min });
  const defaults = DEFAULT_CONFIG;
  return {
    // Below 1 KiB not even a publish mutation with a small event fits.
    maxRequestBytes: count('MAX_REQUEST_BYTES', defaults.maxRequestBytes, 1024),
    maxBatchSize: count('MAX_BATCH_SIZE', defaults.maxBatchSize, 0),
    maxConnections: count('MAX_CONNECTIONS', defaults.maxConnections),
    maxConnectionsPerUser: count('MAX_CONNECTIONS_PER_USER', defaults.maxConnectionsPerUser),
    maxSubscriptionsPerConnection: count('MAX_SUBSCRIPTIONS_PER_CONNECTION', defaults.maxSubscriptionsPerConnection),
    publishRatePerSession: numeric(env, 'PUBLISH_RATE_PER_SESSION', defaults.publishRatePerSession, { min: 0 }),
    publishBurstPerSession: count('PUBLISH_BURST_PER_SESSION', defaults.publishBurstPerSession),
    maxQueryDepth: count('MAX_QUERY_DEPTH', defaults.maxQueryDepth),
    maxQueryAliases: count('MAX_QUERY_ALIASES', defaults.maxQueryAliases, 0),
    maxQueryTokens: count('MAX_QUERY_TOKENS', defaults.maxQueryTokens),
    maxQueryDirectives: count('MAX_QUERY_DIRECTIVES', defaults.maxQueryDirectives, 0),
    maxDocumentBytes: count('MAX_DOCUMENT_BYTES', defaults.maxDocumentBytes, 1024),
    connectionInitTimeoutMs: Math.round(
      numeric(env, 'CONNECTION_INIT_TIMEOUT_SECONDS', defaults.connectionInitTimeoutMs / 1000, { min: MIN_SECONDS }) * 1000,
    ),
    sendTimeoutMs: Math.round(numeric(env, 'SEND_TIMEOUT_SECONDS', defaults.sendTimeoutMs / 1000, { min: MIN_SECONDS }) * 1000),
  };
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

export type TraceExporterName = 'otlp' | 'console';
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

/** Tracing as the OpenTelemetry SDK environment variables describe it (the subset the gateway supports). */
export interface TracingConfig {
  /** `OTEL_TRACES_EXPORTER`: `otlp` and/or `console`. @default 'otlp' when only an OTLP endpoint is set */
  exporters: readonly TraceExporterName[];
  /**
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (OTLP over HTTP
   * with protobuf, the only `OTEL_EXPORTER_OTLP_PROTOCOL` supported). @default 'http://localhost:4318/v1/traces'
   */
  otlpEndpoint: string;
  /** `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,…`, values URL-encoded. */
  otlpHeaders: Readonly<Record<string, string>>;
  /** `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`. @default 'agent-progress-gateway' */
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`: `key=value,…` describing this process on every span. */
  resourceAttributes: Readonly<Record<string, string>>;
  /** `OTEL_TRACES_SAMPLER`. @default 'parentbased_always_on' */
  sampler: SamplerName;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `*traceidratio` samplers, 0 to 1. @default 1 */
  samplerRatio: number;
}

const TRACE_EXPORTERS: readonly string[] = ['otlp', 'console'];
const SAMPLERS: readonly string[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** `key=value,key2=value2` with URL-encoded values (the W3C Baggage format the OTEL variables use). */
function keyValues(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (env[name] ?? '').split(',')) {
    if (item.trim() === '') continue;
    const at = item.indexOf('=');
    const key = item.slice(0, Math.max(at, 0)).trim();
    let value: string | undefined;
    try {
      value = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      value = undefined;
    }
    // Not echoed: a header value may be an API key.
    if (at <= 0 || key === '' || value === undefined) throw new ConfigError(`${name} must be key=value pairs separated by commas, values URL-encoded`);
    pairs[key] = value;
  }
  return pairs;
}

/**
 * Off unless an exporter is named (`OTEL_TRACES_EXPORTER`) or an OTLP endpoint is set, and never with
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. Unlike a stock SDK, nothing is exported by default.
 */
function loadTracingConfig(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return undefined;
  const tracesEndpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || undefined;
  const baseEndpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined;
  const named = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (named.includes('none')) return undefined;
  const unknown = named.filter((name) => !TRACE_EXPORTERS.includes(name));
  if (unknown.length > 0) throw new ConfigError(`OTEL_TRACES_EXPORTER must list ${TRACE_EXPORTERS.join(', ')} or none, got "${unknown.join(', ')}"`);
  const exporters = (named.length > 0 ? [...new Set(named)] : tracesEndpoint || baseEndpoint ? ['otlp'] : []) as TraceExporterName[];
  if (exporters.length === 0) return undefined;

  const otlpEndpoint = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  if (!URL.canParse(otlpEndpoint)) {
    throw new ConfigError(`${tracesEndpoint ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be a URL, got "${tracesEndpoint ?? baseEndpoint}"`);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = env[name];
    if (protocol && protocol !== 'http/protobuf' && exporters.includes('otlp')) throw new ConfigError(`${name} must be http/protobuf (the only OTLP protocol supported), got "${protocol}"`);
  }
  const sampler = env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on';
  if (!SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got "${sampler}"`);
  const resourceAttributes = keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const headersVariable = env['OTEL_EXPORTER_OTLP_TRACES_HEADERS'] ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  return Object.freeze({
    exporters: Object.freeze(exporters),
    otlpEndpoint,
    otlpHeaders: Object.freeze(keyValues(env, headersVariable)),
    serviceName: env['OTEL_SERVICE_NAME'] || resourceAttributes['service.name'] || 'agent-progress-gateway',
    resourceAttributes: Object.freeze(resourceAttributes),
    sampler: sampler as SamplerName,
    samplerRatio: sampler.endsWith('traceidratio') ? numeric(env, 'OTEL_TRACES_SAMPLER_ARG', 1, { max: 1 }) : 1,
  });
}
