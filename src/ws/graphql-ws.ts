import { getOperationAST, GraphQLError, type ExecutionArgs, type OperationTypeNode } from 'graphql';
import type { Context, OperationResult } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { CompiledSubscriptions } from '../plugins/compiled-subscriptions.js';
import { serveGraphQLWs, type SocketExtra } from './serve.js';
import { NextFrames } from './result-frames.js';
import { GatewayCloseCode } from './close-codes.js';
import { isOpen, limitConnections } from './connection-limits.js';
import { documentTooLarge, gatewayError, isGatewayError, withCode } from '../errors.js';
import type { GatewayContext } from '../schema/context.js';

/** Server pings keep idle sockets alive through proxies that close silent connections (60 s by default). */
export const KEEP_ALIVE_MS = 12_000;

type Run = (args: ExecutionArgs) => OperationResult;
type EnvelopedArgs = ExecutionArgs & { rootValue: { execute: Run; subscribe: Run } };

/** A failure of one operation as its errors; never an exception, which would close the whole socket. */
function asErrors(error: unknown, code: 'GRAPHQL_PARSE_FAILED' | 'INTERNAL_SERVER_ERROR'): GraphQLError[] {
  if (error instanceof GraphQLError) return [error];
  // e.g. a RangeError from a document nested deeper than the parser's stack
  return [new GraphQLError(code === 'GRAPHQL_PARSE_FAILED' ? 'The document could not be parsed.' : 'Unexpected error.', { extensions: { code } })];
}

/** The headers of every connected socket's upgrade request, once its credentials were read (see onConnect). */
const NO_HEADERS = Object.freeze({});

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A socket's credential expiry and its timer, kept on the socket for the functions every socket shares. */
const EXPIRY = Symbol('credential expiry');
type ExpiringSocket = WebSocket & { [EXPIRY]?: { at: number; timer?: NodeJS.Timeout } };

// One function each for every socket rather than a closure per socket, kept as long as the socket is open.
function armExpiry(socket: ExpiringSocket): void {
  const expiry = socket[EXPIRY]!;
  const left = expiry.at - Date.now();
  if (left <= 0) return socket.close(GatewayCloseCode.TokenExpired, 'Token expired');
  expiry.timer = setTimeout(armExpiry, Math.min(left, MAX_TIMER_MS), socket);
}
function clearExpiry(this: ExpiringSocket): void {
  clearTimeout(this[EXPIRY]?.timer);
}

/** Closes the socket with TokenExpired when its credential expires, so no socket outlives its token. */
function closeWhenExpired(socket: ExpiringSocket, expiresAt: number | undefined): void {
  if (expiresAt === undefined) return;
  socket[EXPIRY] = { at: expiresAt };
  armExpiry(socket);
  socket.on('close', clearExpiry);
}

interface ConnectionExtra {
  principal?: Principal;
  /** Which operation ids on this socket are subscriptions; graphql-ws's `ctx.subscriptions` says which still run. */
  subscriptionIds?: Set<string>;
}

/**
 * Whether operation `id` fits on the connection: anything but a subscription does; a subscription takes a place
 * unless `max` subscriptions already run there. graphql-ws forgets an operation however it ends (completed,
 * failed, cancelled), so its `ctx.subscriptions` is the running set; this only remembers which are subscriptions.
 */
function hasRoomFor(ctx: Context, id: string, operation: OperationTypeNode | undefined, max: number): boolean {
  const ids = ((ctx.extra as ConnectionExtra).subscriptionIds ??= new Set());
  ids.delete(id); // a client may reuse the id of an operation that ended
  if (operation !== 'subscription') return true;
  for (const other of ids) if (!(other in ctx.subscriptions)) ids.delete(other);
  if (ids.size >= max) return false;
  ids.add(id);
  return true;
}

export type GraphQLWsOptions = Pick<
  GatewayConfig,
  'connectionInitTimeoutMs' | 'maxConnections' | 'maxConnectionsPerUser' | 'maxSubscriptionsPerConnection' | 'maxDocumentBytes' | 'sendTimeoutMs'
>;

/**
 * graphql-ws on the `ws` server, executing through Yoga's envelop so both transports share one schema, context
 * and plugin chain (Yoga's tested graphql-ws recipe); only a subscription whose results the gateway sends itself
 * runs without envelop's `subscribe` (`direct`, compiled-subscriptions.ts). Parse, validation and identity failures
 * become GraphQL `error` messages for that one operation, never a closed socket. Connection limits close the socket
 * with a code from close-codes.ts; the subscription limit refuses only the extra subscription.
 */
export function useGraphQLWs(
  yoga: YogaServerInstance<Record<string, unknown>, GatewayContext>,
  wss: WebSocketServer,
  authenticator: Authenticator,
  options: GraphQLWsOptions,
  log: Logger,
  /** Runs the subscriptions it can send directly without envelop (compiled-subscriptions.ts). */
  direct: Pick<CompiledSubscriptions, 'subscribeDirectly'>,
  onSlowConsumer?: () => void,
) {
  // Before useServer: its 'connection' listener must find a refused socket already closing.
  const connections = limitConnections(wss, options);
  return serveGraphQLWs(
    {
      connectionInitWaitTimeout: options.connectionInitTimeoutMs,
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      subscribe: (args) => direct.subscribeDirectly(args) ?? (args as EnvelopedArgs).rootValue.subscribe(args),
      async onConnect(ctx) {
        const { socket } = ctx.extra;
        try {
          const principal = await authenticator.ofConnection(ctx.connectionParams, ctx.extra.request);
          // Closed meanwhile (over MAX_CONNECTIONS, or by the client), or over the caller's quota: `false` makes
          // graphql-ws close with 4403, which `ws` ignores on a closing socket, so the code already sent stands.
          if (!isOpen(socket) || !connections.admit(socket, principal)) return false;
          (ctx.extra as ConnectionExtra).principal = principal;
          // The upgrade request and connection_init's payload were needed for their credentials, which the
          // principal now carries; operations need only the request's URL. Holding the IncomingMessage, its headers
          // or the payload (the token among them) for the socket's lifetime costs every connection memory, and
          // keeps a bearer token in the heap.
          const { url, method } = ctx.extra.request;
          ctx.extra.request = { headers: NO_HEADERS, url, method } as SocketExtra['request'];
          delete (ctx as { connectionParams?: unknown }).connectionParams;
          closeWhenExpired(socket, 'expiresAt' in principal ? principal.expiresAt : undefined);
          return true;
        } catch (error) {
          if (!isGatewayError(error)) throw error;
          // An expired token is worth a retry with a fresh one (4101); any other refusal is final (4403).
          if (error.extensions['reason'] === 'TOKEN_EXPIRED') socket.close(GatewayCloseCode.TokenExpired, 'Token expired');
          return false;
        }
      },
      async onSubscribe(ctx, id, payload) {
        // A literal rather than Yoga's recipe `{ ...ctx, … }`: V8 gives each spread copy its own shape with spare room
        // (~350 bytes more), the context lives as long as its subscription, and nothing reads graphql-ws's own fields
        // (acknowledged, subscriptions, extra) from it.
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          principal: (ctx.extra as ConnectionExtra).principal,
          resultSender: new NextFrames(id, ctx.extra.send),
        });
        if (payload.query.length > options.maxDocumentBytes) return [documentTooLarge(options.maxDocumentBytes)];
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return asErrors(error, 'GRAPHQL_PARSE_FAILED').map((e) => withCode(e, 'GRAPHQL_PARSE_FAILED'));
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map((e: GraphQLError) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [gatewayError('OPERATION_RESOLUTION_FAILURE', 'Name the operation to run (operationName) among those in the document.')];
        }
        const max = options.maxSubscriptionsPerConnection;
        if (!hasRoomFor(ctx, id, operation.operation, max)) {
          return [gatewayError('TOO_MANY_SUBSCRIPTIONS', `This connection already runs ${max} subscriptions.`, { max })];
        }
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
          return asErrors(error, 'INTERNAL_SERVER_ERROR');
        }
      },
    },
    wss,
    { keepAliveMs: KEEP_ALIVE_MS, sendTimeoutMs: options.sendTimeoutMs, ...(onSlowConsumer ? { onSlowConsumer } : {}) },
    log,
  );
}
