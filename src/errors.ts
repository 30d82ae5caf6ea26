import { GraphQLError } from 'graphql';

/**
 * Every error a client can receive carries one of these codes in `extensions.code`.
 * Clients branch on the code, never on the message.
 */
export const ErrorCode = {
  /** The document is not valid GraphQL syntax. */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** An argument or input failed validation (unsafe id, out-of-range value, unknown field). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The request could not be parsed or validated as GraphQL. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** Credentials are missing, malformed, invalid or expired (`extensions.reason` says `TOKEN_EXPIRED` for the last). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller is authenticated but may not do this (an agent reading a session, a token for another session). */
  FORBIDDEN: 'FORBIDDEN',
  /** The session does not exist, has ended or expired, or belongs to another user (indistinguishable on purpose). */
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  /** `startSession` was given an id another user already owns. */
  SESSION_ID_TAKEN: 'SESSION_ID_TAKEN',
  /** An event exceeds `MAX_EVENT_BYTES`. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A `publishAgentEvents` batch holds more than `MAX_PUBLISH_BATCH` events. Split it. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  /**
   * The idempotency key was used within `IDEMPOTENCY_WINDOW_SECONDS` for a different event (or batch) on this
   * session. A retry must resend exactly what it first sent; new events need a new key.
   */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** The `after` cursor is not one this session ever issued. */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /**
   * The events after the cursor are no longer in the retained history (trimmed or expired).
   * The client must reload the session's state instead of resuming; nothing partial is sent.
   */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  /**
   * The event store (Redis) cannot be reached, or the gateway is shutting down (`extensions.reason`
   * `SHUTTING_DOWN`). Retry, on another replica if shutting down. One ambiguity remains: a publish in flight at the
   * instant the Redis connection dropped may have been applied; a retry then logs the event twice, under two seqs.
   */
  UNAVAILABLE: 'UNAVAILABLE',
  /**
   * The HTTP request is not one the gateway takes (Yoga's code): a batch (a JSON array of operations) while
   * `MAX_BATCH_SIZE` is 0 (HTTP 400) or longer than it (HTTP 413), a malformed body or `Content-Length`, a mutation
   * over GET. Do not retry the same request.
   */
  BAD_REQUEST: 'BAD_REQUEST',
  /**
   * The HTTP request body exceeds `MAX_REQUEST_BYTES` (HTTP 413; Yoga's code), whether or not it declared its
   * length. Do not retry the same request.
   */
  REQUEST_ENTITY_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
  /** The document is longer than `MAX_DOCUMENT_BYTES`; it was not parsed. Send large values as variables. */
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  /** The document holds several operations (or none) and `operationName` does not pick one. */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** HTTP 415: the body is not `application/json` (or another type the GraphQL-over-HTTP spec allows). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** HTTP 406: the `Accept` header allows none of the response types this request could have. */
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE',
  /** HTTP 404: no such file under `/console` (or the console was not built: `npm run build:console`). */
  NOT_FOUND: 'NOT_FOUND',
  /** The document nests selections deeper than `MAX_QUERY_DEPTH`. */
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  /** An operation uses more than `MAX_QUERY_ALIASES` aliases. */
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  /** The document has more than `MAX_QUERY_TOKENS` lexical tokens; it was not parsed further. */
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  /** An operation uses more than `MAX_QUERY_DIRECTIVES` directives. */
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  /** Introspection (`__schema`, `__type`) is switched off (`INTROSPECTION=false`; the default in production). */
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  /**
   * The WebSocket already runs `MAX_SUBSCRIPTIONS_PER_CONNECTION` subscriptions. This one was refused; the socket
   * and its other subscriptions go on. Complete one first, or open another connection.
   */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /**
   * The session's publishes exceed `PUBLISH_RATE_PER_SESSION` (after a burst of `PUBLISH_BURST_PER_SESSION`).
   * Nothing was published; retry after `extensions.retryAfterMs` milliseconds.
   */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function gatewayError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function isGatewayError(error: unknown, code?: ErrorCode): error is GraphQLError {
  return error instanceof GraphQLError && (code === undefined || error.extensions['code'] === code);
}

export function documentTooLarge(maxBytes: number): GraphQLError {
  return gatewayError('QUERY_TOO_LARGE', `The document exceeds ${maxBytes} characters; send large values as variables.`, { max: maxBytes });
}

/** The same error with `code` in its extensions, unless it already has one. */
export function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  if (error.extensions['code'] !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** Failures on the gateway's side (or its store's), as opposed to refusals of what the caller asked. */
const SERVER_ERROR_CODES: ReadonlySet<unknown> = new Set(['UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

/**
 * Whether an error in a GraphQL result is a refusal of the caller's request (a coded GraphQL error: bad input,
 * no access, rate limited …) rather than a failure here: an unexpected exception (which Yoga masks as
 * "Unexpected error.") or UNAVAILABLE.
 */
export function isClientError(error: GraphQLError): boolean {
  let cause: unknown = error;
  while (cause instanceof GraphQLError && cause.originalError) cause = cause.originalError;
  return cause instanceof GraphQLError && !SERVER_ERROR_CODES.has(error.extensions['code']);
}
