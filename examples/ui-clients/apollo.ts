import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode, type FormattedExecutionResult } from 'graphql';
import type { Client, Sink, SubscribePayload } from 'graphql-ws';
import { AgentProgressDocument, type AgentProgressSubscription } from '../../client/generated/graphql.js';
import { createGatewaySocket, httpHeaders, type GatewaySocket, type GatewaySocketOptions } from './connection.js';
import { followWithResume, type FollowOptions, type Follower } from './resume.js';

/** One event as the generated `AgentProgress` subscription selects it. */
export type AgentEvent = NonNullable<AgentProgressSubscription['agentProgress']>;

export interface ApolloGatewayOptions extends Omit<GatewaySocketOptions, 'url'> {
  /** `http(s)://…/graphql`: queries and mutations. */
  httpUrl: string;
  /** `ws(s)://…/graphql`: subscriptions. */
  wsUrl: string;
}

export interface ApolloGateway {
  apollo: ApolloClient;
  socket: GatewaySocket;
  dispose(): Promise<void>;
}

/** The Apollo Client a UI makes once: mutations and queries over HTTP, subscriptions over one graphql-ws socket. */
export function createApolloGateway({ httpUrl, wsUrl, ...socketOptions }: ApolloGatewayOptions): ApolloGateway {
  const socket = createGatewaySocket({ url: wsUrl, ...socketOptions });
  const http = new SetContextLink(({ headers }) => ({ headers: { ...headers, ...httpHeaders(socketOptions.credentials()) } })).concat(
    new HttpLink({ uri: httpUrl }),
  );
  const link = ApolloLink.split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(withPlainErrors(socket.client)),
    http,
  );
  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  return {
    apollo,
    socket,
    async dispose() {
      apollo.stop();
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
 * Follows a session with Apollo Client, resuming after every dropped connection (see `followWithResume`).
 *
 * ```ts
 * const follower = followSessionWithApollo(gateway, {
 *   sessionId,
 *   onEvent: (event) => list.push(event),
 *   onReload: () => showReloadBanner(), // CURSOR_EXPIRED: the list cannot be completed any more
 *   onComplete: () => markFinished(),
 * });
 * ```
 */
export function followSessionWithApollo(gateway: ApolloGateway, { sessionId, requestId, ...options }: FollowSessionOptions): Follower {
  return followWithResume<AgentEvent>({
    ...options,
    start(after, sink) {
      const subscription = gateway.apollo
        .subscribe({
          query: AgentProgressDocument,
          variables: { sessionId, requestId, after },
          // A stream to append to a list, not entities to normalise: a live-only event even shares its id with the
          // durable event before it.
          fetchPolicy: 'no-cache',
        })
        .subscribe({
          // Apollo 4 delivers failures as a result with `error`, then completes.
          next({ data, error }) {
            if (CombinedGraphQLErrors.is(error)) sink.failed(error.errors);
            else if (error) sink.dropped(gateway.socket.lastCloseCode);
            else if (data?.agentProgress) sink.event(data.agentProgress);
          },
          complete: () => sink.completed(),
        });
      return () => subscription.unsubscribe();
    },
  });
}

/**
 * GraphQLWsLink tells a socket's error event by comparing with `WebSocket.CLOSED`, a global Node 20 does not have
 * (apollographql/apollo-client#11761: "ReferenceError: WebSocket is not defined" when a connection is refused).
 * Hand it an Error instead; browsers are unaffected.
 */
function withPlainErrors(client: Client): Client {
  return {
    ...client,
    subscribe: <Data, Extensions>(payload: SubscribePayload, sink: Sink<FormattedExecutionResult<Data, Extensions>>) =>
      client.subscribe<Data, Extensions>(payload, {
        next: (value) => sink.next(value),
        complete: () => sink.complete(),
        error: (error) => sink.error(Array.isArray(error) || error instanceof Error || isCloseEvent(error) ? error : new Error('WebSocket error')),
      }),
  };
}

const isCloseEvent = (value: unknown): boolean => typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
