import WebSocket from 'ws';
import type { DeliveryTally } from './delivery-tally.js';
import { nowMs, readFrame, type ReadFrame } from './events.js';
import type { BenchSession } from './sessions.js';

/**
 * One benchmark browser: its own WebSocket, following its own session. Against the gateway it speaks the
 * graphql-transport-ws protocol by hand (connection_init with the user's JWT, one `subscribe`, `pong` to `ping`):
 * graphql-ws's own client would spend more of the load generator's core per message than the few lines the
 * benchmark needs, and it would hide what the server sends. Against the raw relay it only reads.
 */
export type TargetKind = 'gateway' | 'relay';

/** Lifecycle counts shared by the connections of one worker process. */
export interface ConnectionEvents {
  /** Why connections never got established: close code, socket error code, timeout. */
  connectErrors: Record<string, number>;
  /** Established connections that closed without being asked to, by close code. */
  closedAfterEstablished: Record<string, number>;
  /** `error` messages on a subscription, by `extensions.code`. */
  subscriptionErrors: Record<string, number>;
  /** Subscriptions the server completed (it should not, while the session lives). */
  completed: number;
}

export function newConnectionEvents(): ConnectionEvents {
  return { connectErrors: {}, closedAfterEstablished: {}, subscriptionErrors: {}, completed: 0 };
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export interface SubscriberOptions {
  kind: TargetKind;
  /** ws://host:port/graphql for the gateway, ws://host:port/ for the relay. */
  url: string;
  session: BenchSession;
  /** The user's JWT (gateway only). */
  token: string;
  document: string;
  tally: DeliveryTally;
  events: ConnectionEvents;
  /** Parse and check this frame in full (a sample: full parsing at every frame would load the generator). */
  shouldVerify: () => boolean;
  establishTimeoutMs: number;
}

export class BenchSubscriber {
  private lastSeq = Number.NaN;
  private socket: WebSocket;
  private isEstablished = false;
  private closing = false;
  /** Resolves true once the subscription delivers (gateway: its first event; relay: its `subscribed`), else false. */
  readonly established: Promise<boolean>;
  private settle!: (ok: boolean) => void;

  constructor(private readonly options: SubscriberOptions) {
    this.established = new Promise((resolve) => (this.settle = resolve));
    const { kind, url, session } = options;
    const address = kind === 'relay' ? `${url}?user=${session.userId}&session=${session.sessionId}` : url;
    this.socket = new WebSocket(address, kind === 'gateway' ? 'graphql-transport-ws' : [], { perMessageDeflate: false, skipUTF8Validation: true });
    const timer = setTimeout(() => this.fail('timeout'), options.establishTimeoutMs);
    void this.established.then(() => clearTimeout(timer));
    this.socket.on('open', () => {
      if (kind === 'gateway') this.send({ type: 'connection_init', payload: { authorization: `Bearer ${options.token}` } });
    });
    this.socket.on('message', (data: Buffer) => this.onFrame(data.toString()));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.fail(error.code ?? error.message.slice(0, 60)));
    this.socket.on('close', (code) => {
      if (!this.isEstablished) return this.fail(`close ${code}`);
      if (!this.closing) count(options.events.closedAfterEstablished, String(code));
    });
  }

  private send(message: object): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private fail(reason: string): void {
    if (this.isEstablished || this.closing) return;
    this.closing = true;
    count(this.options.events.connectErrors, reason);
    this.socket.terminate();
    this.settle(false);
  }

  private establish(): void {
    if (this.isEstablished || this.closing) return;
    this.isEstablished = true;
    this.settle(true);
  }

  private onFrame(text: string): void {
    const frame = readFrame(text);
    if (Number.isNaN(frame.seq)) return this.onControl(text);
    this.establish();
    const { tally } = this.options;
    tally.sequence(this.lastSeq, frame.seq);
    if (!(frame.seq <= this.lastSeq)) this.lastSeq = frame.seq;
    if (frame.step >= 0) tally.event(frame.step, frame.sentAtMs, nowMs());
    if (this.options.shouldVerify()) tally.verification(this.check(text, frame));
  }

  /** Undefined when the full parse agrees with the cheap read, else what is wrong. */
  private check(text: string, frame: ReadFrame): string | undefined {
    try {
      const message = JSON.parse(text) as Record<string, any>;
      if (this.options.kind === 'relay') return message['$seq'] === frame.seq ? undefined : `relay frame $seq ${message['$seq']} read as ${frame.seq}`;
      const event = message['payload']?.data?.agentProgress;
      if (message['type'] !== 'next' || message['payload']?.errors) return `not a clean next: ${text.slice(0, 200)}`;
      if (event?.seq !== frame.seq || typeof event?.id !== 'string' || typeof event?.type !== 'string') return `unexpected event: ${text.slice(0, 200)}`;
      return undefined;
    } catch (error) {
      return `unparsable frame: ${(error as Error).message}`;
    }
  }

  private onControl(text: string): void {
    let message: { type?: string; payload?: any };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return count(this.options.events.subscriptionErrors, 'UNPARSABLE_FRAME');
    }
    switch (message.type) {
      case 'connection_ack':
        return this.send({ id: '1', type: 'subscribe', payload: { query: this.options.document, variables: { sessionId: this.options.session.sessionId } } });
      case 'ping':
        return this.send({ type: 'pong' });
      case 'subscribed': // the raw relay's own acknowledgement
        return this.establish();
      case 'complete':
        this.options.events.completed += 1;
        return;
      case 'error': {
        const code = (Array.isArray(message.payload) ? message.payload[0]?.extensions?.code : undefined) ?? 'ERROR';
        count(this.options.events.subscriptionErrors, code);
        return this.fail(`error ${code}`);
      }
      case 'next': // a result without an event (errors only)
        count(this.options.events.subscriptionErrors, message.payload?.errors?.[0]?.extensions?.code ?? 'NEXT_WITHOUT_EVENT');
        return;
      default:
        count(this.options.events.subscriptionErrors, `UNEXPECTED_${message.type ?? 'FRAME'}`);
    }
  }

  /** Closes the socket on purpose (the end of a phase): not counted as an unexpected close. */
  close(): Promise<void> {
    this.closing = true;
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
      // A server that never answers the close handshake: drop the socket after a second.
      setTimeout(() => this.socket.terminate(), 1_000).unref();
    });
  }
}
