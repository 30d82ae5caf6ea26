import { createClient, type Client } from 'graphql-ws';

/**
 * Who the UI is: a JWT, or in development mode (no authentication configured) a claimed user id. Read on every
 * request and every (re)connect, so a refreshed token is picked up: the gateway closes a socket whose token expires
 * (4101), and the reconnect must carry the new one.
 */
export type Credentials = { token: string } | { userId: string };

/** The HTTP headers that carry `credentials`. */
export function httpHeaders(credentials: Credentials): Record<string, string> {
  return 'token' in credentials ? { authorization: `Bearer ${credentials.token}` } : { 'x-user-id': credentials.userId };
}

/** The graphql-ws connection parameters that carry `credentials`. */
export function connectionParams(credentials: Credentials): Record<string, string> {
  return 'token' in credentials ? { authorization: `Bearer ${credentials.token}` } : { userId: credentials.userId };
}

export interface KeepAlive {
  /** How often the client pings the gateway. */
  intervalMs: number;
  /** How long it waits for the pong before it gives the connection up (and the subscriptions resume on a new one). */
  timeoutMs: number;
}

export interface GatewaySocketOptions {
  /** `ws(s)://…/graphql` */
  url: string;
  credentials: () => Credentials;
  /** Browsers have a WebSocket; in Node pass `WebSocket` from 'ws'. */
  webSocketImpl?: unknown;
  /**
   * A connection that dies without closing (a laptop asleep, a network switch, a proxy that forgot it) is noticed
   * only by a ping that gets no pong.
   * @default { intervalMs: 12_000, timeoutMs: 6_000 }
   */
  keepAlive?: KeepAlive;
}

/** A graphql-ws client (one socket, shared by every subscription) that leaves reconnecting to `followWithResume`. */
export interface GatewaySocket {
  client: Client;
  /** The close code of the last socket that closed, until the next one connects. */
  readonly lastCloseCode: number | undefined;
}

export function createGatewaySocket({
  url,
  credentials,
  webSocketImpl,
  keepAlive = { intervalMs: 12_000, timeoutMs: 6_000 },
}: GatewaySocketOptions): GatewaySocket {
  let lastCloseCode: number | undefined;
  let pongDue: ReturnType<typeof setTimeout> | undefined;
  const client: Client = createClient({
    url,
    ...(webSocketImpl ? { webSocketImpl } : {}),
    lazy: true,
    connectionParams: () => connectionParams(credentials()),
    // graphql-ws would resubscribe with the variables of the first subscribe, the first `after`;
    // followWithResume resubscribes with the newest cursor instead.
    retryAttempts: 0,
    keepAlive: keepAlive.intervalMs,
    on: {
      connecting: () => (lastCloseCode = undefined),
      // `terminate` ends the subscriptions at once (close code 4499) instead of waiting for a close that never comes.
      ping: (received) => {
        if (!received) pongDue = setTimeout(() => client.terminate(), keepAlive.timeoutMs);
      },
      pong: (received) => {
        if (received) clearTimeout(pongDue);
      },
      // Kept for the subscriptions the close ends (their error callbacks run after this): not every client passes
      // the code on (Apollo's GraphQLWsLink turns it into an error message).
      closed: (event) => {
        clearTimeout(pongDue);
        lastCloseCode = (event as { code?: number }).code;
      },
    },
  });
  return {
    client,
    get lastCloseCode() {
      return lastCloseCode;
    },
  };
}
