import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { OperationResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { GatewayCloseCode } from './close-codes.js';
import { isGatewayError, withCode } from '../errors.js';
import type { GatewayContext } from '../schema/context.js';

/** Server pings keep idle sockets alive through proxies that close silent connections (60 s by default). */
export const KEEP_ALIVE_MS = 12_000;

type Run = (args: ExecutionArgs) => OperationResult;
type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: Run; subscribe: Run } };

function asErrors(error: unknown): GraphQLError[] {
  if (error instanceof GraphQLError) return [error];
  throw error;
}

/**
 * graphql-ws on the `ws` server, executing through Yoga's envelop so both transports share one schema, context
 * and plugin chain (Yoga's tested graphql-ws recipe). Parse, validation and identity failures become GraphQL
 * `error` messages for that one operation, never a closed socket.
 */
/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Closes the socket with TokenExpired when its credential expires, so no socket outlives its token. */
function closeWhenExpired(socket: WebSocket, expiresAt: number | undefined): void {
  if (expiresAt === undefined) return;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) return socket.close(GatewayCloseCode.TokenExpired, 'Token expired');
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}

interface ConnectionExtra {
  principal?: Principal;
}

export function useGraphQLWs(yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>, wss: WebSocketServer, authenticator: Authenticator) {
  return useServer(
    {
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
      async onConnect(ctx) {
        try {
          const principal = await authenticator.ofConnection(ctx.connectionParams, ctx.extra.request);
          (ctx.extra as ConnectionExtra).principal = principal;
          closeWhenExpired(ctx.extra.socket, 'expiresAt' in principal ? principal.expiresAt : undefined);
          return true;
        } catch (error) {
          if (isGatewayError(error)) return false; // 4403 Forbidden: credentials refused
          throw error;
        }
      },
      async onSubscribe(ctx, _id, payload) {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          principal: (ctx.extra as ConnectionExtra).principal,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return asErrors(error).map((e) => withCode(e, 'GRAPHQL_PARSE_FAILED'));
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map((e: GraphQLError) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        try {
          return {
            schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          return asErrors(error);
        }
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );
}
