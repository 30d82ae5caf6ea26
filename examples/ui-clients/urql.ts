import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { onEnd, pipe, subscribe } from 'wonka';
import { AgentProgressDocument, type AgentProgressSubscription } from '../../client/generated/graphql.js';
import { createGatewaySocket, httpHeaders, type GatewaySocket, type GatewaySocketOptions } from './connection.js';
import { followWithResume, type FollowOptions, type Follower } from './resume.js';

/** One event as the generated `AgentProgress` subscription selects it. */
export type AgentEvent = NonNullable<AgentProgressSubscription['agentProgress']>;

export interface UrqlGatewayOptions extends Omit<GatewaySocketOptions, 'url'> {
  /** `http(s)://…/graphql`: queries and mutations. */
  httpUrl: string;
  /** `ws(s)://…/graphql`: subscriptions. */
  wsUrl: string;
}

export interface UrqlGateway {
  urql: Client;
  socket: GatewaySocket;
  dispose(): Promise<void>;
}

/** The urql Client a UI makes once: queries and mutations over HTTP, subscriptions over one graphql-ws socket. */
export function createUrqlGateway({ httpUrl, wsUrl, ...socketOptions }: UrqlGatewayOptions): UrqlGateway {
  const socket = createGatewaySocket({ url: wsUrl, ...socketOptions });
  const urql = new Client({
    url: httpUrl,
    fetchOptions: () => ({ headers: httpHeaders(socketOptions.credentials()) }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.client.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return {
    urql,
    socket,
    async dispose() {
      await socket.client.dispose();
    },
  };
}

export interface FollowSessionOptions extends Omit<FollowOptions<AgentEvent>, 'start'> {
  sessionId: string;
  /** Follow one request: its events and the session's end; completes after its RUN_FINISHED or RUN_FAILED. */
  requestId?: string;
}

/**
 * Follows a session with urql, resuming after every dropped connection (see `followWithResume`).
 *
 * ```ts
 * const follower = followSessionWithUrql(gateway, {
 *   sessionId,
 *   onEvent: (event) => list.push(event),
 *   onReload: () => showReloadBanner(), // CURSOR_EXPIRED: the list cannot be completed any more
 *   onComplete: () => markFinished(),
 * });
 * ```
 */
export function followSessionWithUrql(gateway: UrqlGateway, { sessionId, requestId, ...options }: FollowSessionOptions): Follower {
  return followWithResume<AgentEvent>({
    ...options,
    start(after, sink) {
      // `onEnd`: urql's own `.subscribe(onResult)` does not say when the gateway completed the subscription.
      const { unsubscribe } = pipe(
        gateway.urql.subscription(AgentProgressDocument, { sessionId, requestId, after }),
        onEnd(() => sink.completed()),
        subscribe(({ data, error, hasNext }) => {
          // After GraphQL errors urql keeps the results open: the helper's unsubscribe tears them down.
          if (error?.graphQLErrors.length) sink.failed(error.graphQLErrors);
          else if (error) sink.dropped(gateway.socket.lastCloseCode);
          // urql ends a subscription's results with a copy of the last one marked `hasNext: false`: not a new event.
          else if (hasNext && data?.agentProgress) sink.event(data.agentProgress);
        }),
      );
      return unsubscribe;
    },
  });
}
