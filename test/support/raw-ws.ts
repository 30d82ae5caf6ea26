import WebSocket from 'ws';
import { Waiters } from './waiters.js';

/** The subprotocol graphql-ws speaks. */
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A message from the server; `(unparsable)` when a frame was not JSON (a server never should send one). */
export interface ServerMessage {
  type: string;
  id?: string;
  payload?: any;
}

export function isClose(value: ServerMessage | CloseInfo): value is CloseInfo {
  return !('type' in value);
}

/**
 * The graphql-ws protocol spoken by hand over a raw `ws` socket, so a test can send what no well-behaved client
 * would: frames out of order, malformed or binary messages, oversized frames, or vanish mid-subscribe.
 * Every wait ends on a server message or on the socket's close, never on a timer (the timeout only names a
 * stuck test).
 */
export class RawWs {
  /** Every message the server sent, in order. */
  readonly received: ServerMessage[] = [];
  /** Client-side socket errors (a refused handshake, a reset), recorded rather than thrown. */
  readonly socketErrors: string[] = [];
  /** Resolves when the socket has closed, whoever closed it. Never rejects. */
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;
  private readonly waiters = new Waiters();

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.notify();
      });
    });
    socket.on('error', (error) => this.socketErrors.push(error.message));
    socket.on('message', (data) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(data)) as ServerMessage;
      } catch {
        message = { type: '(unparsable)', payload: String(data).slice(0, 200) };
      }
      this.received.push(message);
      this.notify();
    });
  }

  /**
   * Opens a socket offering `protocol` (null offers none). Resolves once it is open or, when the server refuses
   * the handshake, once it has closed (then `closeInfo` is set).
   */
  static async connect(url: string, protocol: string | null = GRAPHQL_TRANSPORT_WS): Promise<RawWs> {
    const socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
    const raw = new RawWs(socket);
    await Promise.race([new Promise((resolve) => socket.once('open', resolve)), raw.closed]);
    return raw;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a frame as is: a string or Buffer verbatim (a Buffer as a binary frame), anything else as JSON text. */
  send(frame: string | Buffer | object): void {
    if (!this.isOpen) return;
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** `connection_init`; resolves with the `connection_ack`, or with the close if the server refuses. */
  init(payload?: unknown): Promise<ServerMessage | CloseInfo> {
    this.send(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
    return this.until((m) => m.type === 'connection_ack', 'connection_ack');
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>, operationName?: string): void {
    this.send({ id, type: 'subscribe', payload: { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) } });
  }

  /** A ping answered with a pong proves the server still serves this socket; resolves with the pong or the close. */
  ping(): Promise<ServerMessage | CloseInfo> {
    const from = this.received.length;
    this.send({ type: 'ping' });
    return this.until((m) => m.type === 'pong', 'pong', from);
  }

  /**
   * The first message from index `from` on that matches, or the close if the socket closes before one arrives.
   */
  until(match: (message: ServerMessage) => boolean, what: string, from = 0, timeoutMs = 15_000): Promise<ServerMessage | CloseInfo> {
    return this.waiters.until<ServerMessage | CloseInfo>(
      () => {
        const found = this.received.slice(from).find(match) ?? this.closeInfo;
        return found ? { value: found } : undefined;
      },
      { ms: timeoutMs, message: () => `timed out waiting for ${what}; received ${JSON.stringify(this.received).slice(0, 500)}` },
    );
  }

  /** Drops the TCP connection without a close frame: what a crashed tab or a cut network looks like. */
  terminate(): void {
    this.socket.terminate();
  }

  /** A clean close, resolved once the socket is closed. */
  close(code = 1000): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code);
    return this.closed;
  }

  private notify() {
    this.waiters.notify();
  }
}
