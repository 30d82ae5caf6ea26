/**
 * WebSocket close codes the gateway uses beyond graphql-ws's own (4400 bad request, 4401 subscribe before
 * acknowledgement, 4403 forbidden — here: credentials refused at connection —, 4408 connection_init timeout,
 * 4409 duplicate subscription id, 4429 too many initialisation requests, 4500 internal error) and 1001
 * (going away: the gateway is shutting down, reconnect to another replica and resume with `after`).
 */
export const GatewayCloseCode = {
  /**
   * The connection's token expired. Retry: reconnect with a fresh token (graphql-ws `connectionParams` as a
   * function), then resubscribe with `after` set to the last event id received.
   */
  TokenExpired: 4101,
} as const;
