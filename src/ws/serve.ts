import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, MessageType, type ServerOptions, type WebSocket as ProtocolSocket } from 'graphql-ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';
import { InternedDocuments } from './interned-documents.js';
import { KeepAlive } from './keep-alive.js';
import { guardedSend } from './slow-consumer.js';

/** What graphql-ws hands our hooks as `ctx.extra` for each socket. */
export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
  /** Sends one message on the socket, as graphql-ws does it (bounded by the slow-consumer guard). */
  send: (data: string) => Promise<void>;
}

/** Messages a client may send; the rest of the protocol's types flow only from the server. */
const CLIENT_MESSAGE_TYPES = new Set<string>([MessageType.ConnectionInit, MessageType.Ping, MessageType.Pong, MessageType.Subscribe, MessageType.Complete]);

/**
 * A client's message, parsed once: the object for graphql-ws, `server-only` for a type only the server sends, or
 * the text itself when it is not JSON (graphql-ws answers that with 4400). A subscribe message's document is the
 * interned copy.
 */
function readClientMessage(text: string, documents: InternedDocuments): object | string | 'server-only' {
  let message: { type?: unknown; payload?: { query?: unknown } } | null;
  try {
    message = JSON.parse(text) as typeof message;
  } catch {
    return text;
  }
  if (typeof message?.type !== 'string' || !CLIENT_MESSAGE_TYPES.has(message.type)) return 'server-only';
  if (message.type === MessageType.Subscribe && typeof message.payload?.query === 'string') message.payload.query = documents.intern(message.payload.query);
  return message;
}

/**
 * graphql-ws on a `ws` server, like graphql-ws's own `use/ws` but strict about failures: a client sending a
 * server-only message (`next`, `connection_ack` …) is closed with 4400 rather than hitting graphql-ws's internal
 * error (4500); an error inside message handling closes that socket with 4500 and is logged once through pino,
 * never on the console; server pings every `keepAliveMs` terminate a peer that stops answering; a peer that stops
 * reading is closed as a slow consumer.
 */
export interface SocketTimings {
  /** Server pings this often; a peer that has not answered by the next one is terminated. */
  keepAliveMs: number;
  /** A peer leaving a message unread this long is closed as a slow consumer (slow-consumer.ts). */
  sendTimeoutMs: number;
  onSlowConsumer?: () => void;
}

/** How long a slow consumer has to read up to its close frame before its socket is destroyed. */
const SLOW_CLOSE_GRACE_MS = 5_000;

/**
 * What a socket keeps for the listeners every socket shares: graphql-ws's handler for its messages, and the call
 * that tells graphql-ws it closed. Shared functions, `this` being the socket, instead of closures made per socket
 * and kept as long as it is open.
 */
const CONNECTION = Symbol('graphql-ws connection');
type ServedSocket = WebSocket & { [CONNECTION]?: { handle?: (data: string) => Promise<void>; closed?: (code: number, reason: string) => Promise<void> } };

/** graphql-ws's view of a socket: it calls these as methods, so they too are shared, the socket a property. */
interface SocketForGraphQLWs extends ProtocolSocket {
  readonly ws: ServedSocket;
}
function closeSocket(this: SocketForGraphQLWs, code?: number, reason?: string): void {
  this.ws.close(code, reason);
}
function handleMessagesWith(this: SocketForGraphQLWs, handle: (data: string) => Promise<void>): void {
  this.ws[CONNECTION]!.handle = handle;
}
function onSocketClose(this: WaitingSocket, code: number, reason: Buffer): void {
  clearTimeout(this[INIT_WAIT]);
  void this[CONNECTION]?.closed?.(code, String(reason));
}

/**
 * A socket's wait for its `connection_init`, timed here rather than by graphql-ws: graphql-ws's timer (and its
 * callback) stays referenced after it fired for as long as the socket is open, ~180 bytes on every held socket;
 * this one is dropped once `connection_init` arrives. Same outcome: 4408 when none came in time.
 */
const INIT_WAIT = Symbol('connection_init wait');
type WaitingSocket = ServedSocket & { [INIT_WAIT]?: NodeJS.Timeout | undefined };
function onInitWaitOver(socket: WaitingSocket): void {
  socket[INIT_WAIT] = undefined;
  socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
}
function initReceived(socket: WaitingSocket): void {
  clearTimeout(socket[INIT_WAIT]);
  socket[INIT_WAIT] = undefined;
}

export function serveGraphQLWs(options: ServerOptions<Record<string, unknown>, SocketExtra>, wss: WebSocketServer, timings: SocketTimings, log: Logger) {
  const keepAlive = new KeepAlive(timings.keepAliveMs);
  const { connectionInitWaitTimeout: initWaitMs = 3_000, ...protocolOptions } = options;
  const server = makeServer({ ...protocolOptions, connectionInitWaitTimeout: 0 });
  const documents = new InternedDocuments();
  wss.options.handleProtocols = handleProtocols;

  // Made once for every socket, not per socket: what a held socket keeps is multiplied by thousands.
  // 'error' on a socket is a protocol violation or an oversized frame (ws closes it with 1002/1009 itself).
  const onSocketError = (err: Error) => log.debug({ err: err.message }, 'websocket error');
  const sendGuard = {
    sendTimeoutMs: timings.sendTimeoutMs,
    closeGraceMs: SLOW_CLOSE_GRACE_MS,
    onSlow: (socket: WebSocket) => {
      log.warn({ bufferedBytes: socket.bufferedAmount }, 'websocket closed as a slow consumer');
      timings.onSlowConsumer?.();
    },
  };

  // Not an async listener: handling a `subscribe` lasts as long as the subscription, and an awaiting listener would
  // hold the message's Buffer all that time, for every subscription.
  function onSocketMessage(this: WaitingSocket, data: RawData, isBinary: boolean): void {
    const message = readClientMessage(isBinary ? '' : String(data), documents);
    if (message === 'server-only') return this.close(CloseCode.BadRequest, 'Invalid message received');
    if ((message as { type?: unknown }).type === MessageType.ConnectionInit) initReceived(this);
    // graphql-ws takes the message parsed (its parseMessage validates a string or an object alike), so it neither
    // parses it again nor keeps its text for as long as a subscription runs.
    this[CONNECTION]!.handle!(message as string).catch((err: unknown) => {
      log.error({ err }, 'graphql-ws message handling failed');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }

  wss.on('connection', (socket: WaitingSocket, request) => {
    socket.on('error', onSocketError);
    if (initWaitMs > 0 && Number.isFinite(initWaitMs)) socket[INIT_WAIT] = setTimeout(onInitWaitOver, initWaitMs, socket);
    keepAlive.watch(socket);
    const send = guardedSend(socket, sendGuard);
    const connection: NonNullable<ServedSocket[typeof CONNECTION]> = {};
    socket[CONNECTION] = connection;
    const forGraphQLWs: SocketForGraphQLWs = { ws: socket, protocol: socket.protocol, send, close: closeSocket, onMessage: handleMessagesWith };
    connection.closed = server.opened(forGraphQLWs, { socket, request, send });
    // graphql-ws has handed over its message handler by now, unless it refused the socket (a wrong subprotocol):
    // then the socket is closing, and its messages go unheard.
    if (connection.handle) socket.on('message', onSocketMessage);
    // 'close' comes once per socket. Its listeners here and in the other ws/ modules use `on`, not `once`: `once`
    // keeps a wrapper and a bound function per listener, ~130 bytes on every held socket.
    socket.on('close', onSocketClose);
  });

  // Resolves once the server stopped accepting and its last socket has closed.
  let allClosed: Promise<void> | undefined;
  const stopAccepting = () =>
    (allClosed ??= new Promise<void>((resolve) => {
      // ws stops handling upgrades (the HTTP server then answers them as plain requests) and answers a handshake
      // still in progress with 503; open sockets stay open.
      wss.close((err) => {
        if (err) log.warn({ err: err.message }, 'websocket server close failed');
        keepAlive.stop();
        resolve();
      });
    }));

  const goAway = async () => {
    const closed = stopAccepting();
    for (const client of wss.clients) client.close(1001, 'Going away');
    await closed;
  };

  return {
    /** Refuses new WebSockets; resolves once every open one has closed. */
    stopAccepting,
    /** Closes every socket with 1001 (going away: reconnect elsewhere and resume); resolves once all are closed. */
    goAway,
    /** Destroys the sockets still open (a peer that never answered the close); returns how many. */
    terminate(): number {
      const open = wss.clients.size;
      for (const client of wss.clients) client.terminate();
      keepAlive.stop();
      return open;
    },
    /** `goAway()`: what a gateway shutting down without a deadline does. */
    dispose: goAway,
  };
}
