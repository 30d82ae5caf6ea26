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
  /** The `after` cursor is not one this session ever issued. */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /**
   * The events after the cursor are no longer in the retained history (trimmed or expired).
   * The client must reload the session's state instead of resuming; nothing partial is sent.
   */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  /** The event store (Redis) cannot be reached; the operation had no effect and may be retried. */
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function gatewayError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function isGatewayError(error: unknown, code?: ErrorCode): error is GraphQLError {
  return error instanceof GraphQLError && (code === undefined || error.extensions['code'] === code);
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
