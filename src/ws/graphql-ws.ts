import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { OperationResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import { isGatewayError, withCode } from '../errors.js';
import { devUserOfConnectionParams } from '../identity.js';
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
export function useGraphQLWs(yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>, wss: WebSocketServer) {
  return useServer(
    {
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
      onConnect(ctx) {
        try {
          devUserOfConnectionParams(ctx.connectionParams);
          return true;
        } catch (error) {
          if (isGatewayError(error)) return false; // 4403 Forbidden: the identity is malformed
          throw error;
        }
      },
      async onSubscribe(ctx, _id, payload) {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
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
