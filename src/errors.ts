import { GraphQLError } from 'graphql';
import { maskError, type MaskError } from 'graphql-yoga';

/**
 * Every error a client can receive carries one of these codes in `extensions.code`.
 * Clients branch on the code, never on the message.
 */
export const ErrorCode = {
  /** An argument or input failed validation (unsafe id, out-of-range value, unknown field). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The request could not be parsed or validated as GraphQL. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** The caller's identity is missing or malformed. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
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

/**
 * Yoga's error masking, plus a code for the one kind of client error graphql-js leaves uncoded: variable values
 * that do not fit their types (wrong scalar, missing non-null, a oneOf input with two fields). Unexpected errors
 * are still masked as INTERNAL_SERVER_ERROR.
 */
export const maskGatewayError: MaskError = (error, message, isDev) => {
  const isRequestError = error instanceof GraphQLError && !error.originalError && !error.path;
  if (isRequestError && error.extensions['code'] === undefined) {
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      extensions: { ...error.extensions, code: ErrorCode.BAD_USER_INPUT },
    });
  }
  return maskError(error, message, isDev);
};
