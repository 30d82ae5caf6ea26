/**
 * WebSocket close codes a client of the gateway can see, and whether it should reconnect.
 *
 * How a graphql-ws client (6.x, `createClient`) reacts: it gives up at once, without retrying, on 1000–1999 except
 * 1000, 1001, 1005, 1006, 1012, 1013 and 1014, and on 4004, 4005, 4400, 4401, 4406, 4409, 4429 and 4500; on every
 * other code it reconnects (and so resubscribes) up to `retryAttempts` times (default 5) with randomised
 * exponential backoff, calling `connectionParams` again each time, unless its `shouldRetry` says no.
 *
 * Codes graphql-ws's server sends, as the gateway uses them:
 * - 1001 going away: the gateway is shutting down. Retry (another replica), resume with `after`. The client does.
 * - 1009 message too big: a WebSocket message over `MAX_REQUEST_BYTES`. Do not resend it; the client gives up.
 * - 4400 bad request: a message that is not graphql-ws. A client bug; the client gives up.
 * - 4401 unauthorized: `subscribe` before `connection_ack`. A client bug; the client gives up.
 * - 4403 forbidden: the credentials in `connection_init` were refused. Retry only with other credentials; the
 *   client retries (with the same ones, unless `connectionParams` is a function that fetches new ones).
 * - 4408 connection initialisation timeout: no `connection_init` within `CONNECTION_INIT_TIMEOUT_SECONDS`.
 *   Retry; the client does (a slow `connectionParams` function, such as a token refresh, is the usual cause).
 * - 4409 subscriber already exists: a subscription id reused while running. A client bug; the client gives up.
 * - 4429 too many initialisation requests: a second `connection_init`. A client bug; the client gives up.
 * - 4500 internal server error. The client gives up; reconnecting later is safe (resume with `after`).
 *
 * The gateway's own codes follow.
 */
export const GatewayCloseCode = {
  /**
   * The connection's token expired. Retry: reconnect with a fresh token (graphql-ws `connectionParams` as a
   * function), then resubscribe with `after` set to the last event id received. A graphql-ws client retries it.
   */
  TokenExpired: 4101,
  /**
   * This process already holds `MAX_CONNECTIONS` WebSockets. Retry with backoff: the load balancer may pick another
   * replica, and sockets close over time. A graphql-ws client retries it.
   */
  TooManyConnections: 4102,
  /**
   * The caller (user, agent, or publish token's session; anonymous callers share one count) already holds
   * `MAX_CONNECTIONS_PER_USER` WebSockets on this process. Do not retry until one of them is closed: share one
   * socket per browser (one graphql-ws client for every tab's subscriptions where possible). A graphql-ws client
   * retries it, which succeeds only if another of the caller's sockets closed meanwhile; a client that knows better
   * stops with `shouldRetry: (event) => event.code !== 4103`.
   */
  TooManyConnectionsForUser: 4103,
  /**
   * The client did not read what it was sent: a message waited longer than `SEND_TIMEOUT_SECONDS` to leave the
   * gateway. Retry: reconnect and resubscribe with `after` set to the last event id received; the history holds
   * the rest. A graphql-ws client retries it.
   */
  SlowConsumer: 4104,
} as const;

export type GatewayCloseCode = (typeof GatewayCloseCode)[keyof typeof GatewayCloseCode];
