import { WebSocket, type WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal.js';
import type { GatewayConfig } from '../config.js';
import { GatewayCloseCode } from './close-codes.js';

export type ConnectionLimitsOptions = Pick<GatewayConfig, 'maxConnections' | 'maxConnectionsPerUser'>;

/**
 * Whose quota a connection counts against: one count per user, per agent, per publish token's session, and one
 * shared by every anonymous socket. The prefixes keep a user and an agent with the same id apart.
 */
export function connectionOwner(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'agent':
      return `agent:${principal.agentId}`;
    case 'session-publisher':
      return `session:${principal.sessionId}`;
    case 'anonymous':
      return 'anonymous';
  }
}

export interface ConnectionLimits {
  /**
   * Counts an acknowledged socket against its owner until it closes; closes it (4103) instead, returning false,
   * when the owner already has `maxConnectionsPerUser` open.
   */
  admit(socket: WebSocket, principal: Principal): boolean;
}

/** Whose place an admitted socket takes, kept on the socket for the close listener every socket shares. */
const OWNER = Symbol('connection owner');
type OwnedSocket = WebSocket & { [OWNER]?: string };

/**
 * `maxConnections` counts every open socket, identified or not (unacknowledged sockets cost memory too, until the
 * connection_init timeout); `maxConnectionsPerUser` counts identified ones. Both per process.
 */
export function limitConnections(wss: WebSocketServer, { maxConnections, maxConnectionsPerUser }: ConnectionLimitsOptions): ConnectionLimits {
  // `ws` adds a socket to `clients` before emitting 'connection' and removes it once closed. Registered before
  // graphql-ws's listener, so a refused socket is already closing when graphql-ws sees it: it sends nothing on it.
  wss.on('connection', (socket) => {
    if (wss.clients.size > maxConnections) socket.close(GatewayCloseCode.TooManyConnections, 'Too many connections');
  });
  const open = new Map<string, number>();
  // One close listener for every admitted socket, `this` being the socket, rather than a closure kept per socket:
  // it gives back the place the socket's owner took.
  function release(this: OwnedSocket): void {
    const owner = this[OWNER]!;
    const left = (open.get(owner) ?? 1) - 1;
    if (left > 0) open.set(owner, left);
    else open.delete(owner);
  }
  return {
    admit(socket: OwnedSocket, principal) {
      const owner = connectionOwner(principal);
      const count = open.get(owner) ?? 0;
      if (count >= maxConnectionsPerUser) {
        socket.close(GatewayCloseCode.TooManyConnectionsForUser, 'Too many connections for this user');
        return false;
      }
      open.set(owner, count + 1);
      socket[OWNER] = owner;
      socket.on('close', release);
      return true;
    },
  };
}

/** A socket that is closing (refused, expired, gone) takes no more work. */
export function isOpen(socket: WebSocket): boolean {
  return socket.readyState === WebSocket.OPEN;
}
