import type { WebSocket } from 'ws';
import { GatewayCloseCode } from './close-codes.js';

export interface SlowConsumerOptions {
  /** A message not handed to the kernel within this long marks the peer as too slow. */
  sendTimeoutMs: number;
  /** After the close frame, how long the peer has to read up to it before the socket is destroyed. */
  closeGraceMs: number;
  /** Called once when the socket is closed for being slow. */
  onSlow?: (socket: WebSocket) => void;
}

/**
 * Sends on `socket` while bounding what a slow or stalled reader can pin in memory.
 *
 * A subscription's next event is taken only once its last send has resolved (graphql-ws awaits each send, and so
 * does send-results-directly.ts), so a peer that stops reading stops its subscriptions: their live events queue up
 * to SUBSCRIBER_BUFFER and then fall back to history (nothing is lost, nothing grows). What remains is the peer
 * itself: one whose oldest unsent message waited longer than `sendTimeoutMs` is closed with SlowConsumer (4104) and
 * destroyed `closeGraceMs` later. It reconnects and resumes with `after`; the history has what it missed.
 */
export function guardedSend(socket: WebSocket, options: SlowConsumerOptions): (data: string) => Promise<void> {
  const guard = new SendGuard(socket, options);
  return guard.send.bind(guard);
}

/** Where a socket keeps its guard, for the listeners and timers every guard shares. */
const GUARD = Symbol('send guard');
type GuardedSocket = WebSocket & { [GUARD]?: SendGuard };

// One function each for every socket, rather than closures made per socket and kept as long as it is open.
function onGuardedSocketClose(this: GuardedSocket): void {
  const guard = this[GUARD];
  if (!guard) return;
  clearTimeout(guard.timer);
  clearTimeout(guard.destroyTimer);
}
function armGuard(guard: SendGuard): void {
  guard.arm();
}
function terminateSocket(socket: WebSocket): void {
  socket.terminate();
}

class SendGuard {
  /** Start times of the sends still waiting for the kernel, oldest first (sends complete in order). */
  private readonly pending: number[] = [];
  /** One timer per socket, and only while something is waiting: armed for the oldest pending send. */
  timer: NodeJS.Timeout | undefined;
  /** Set once closed as slow: destroys the socket if the peer does not read up to the close frame in time. */
  destroyTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly socket: GuardedSocket,
    private readonly options: SlowConsumerOptions,
  ) {
    socket[GUARD] = this;
    socket.on('close', onGuardedSocketClose);
  }

  send(data: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { socket } = this;
      if (socket.readyState !== socket.OPEN || this.closing) return resolve();
      this.pending.push(Date.now());
      if (!this.timer) this.timer = setTimeout(armGuard, this.options.sendTimeoutMs, this);
      socket.send(data, (err) => {
        this.pending.shift();
        if (err) reject(err);
        else resolve();
      });
    });
  }

  arm(): void {
    this.timer = undefined;
    const oldest = this.pending[0];
    if (oldest === undefined || this.closing) return;
    const left = oldest + this.options.sendTimeoutMs - Date.now();
    if (left <= 0) return this.closeAsSlow();
    this.timer = setTimeout(armGuard, left, this);
  }

  private closeAsSlow(): void {
    if (this.closing) return;
    this.closing = true;
    this.options.onSlow?.(this.socket);
    this.socket.close(GatewayCloseCode.SlowConsumer, 'Slow consumer: resume with after');
    this.destroyTimer = setTimeout(terminateSocket, this.options.closeGraceMs, this.socket);
  }
}
