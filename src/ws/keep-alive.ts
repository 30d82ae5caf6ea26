import type { WebSocket } from 'ws';

interface Peer {
  /** When the next ping is due. */
  nextPingAt: number;
  /** When the unanswered ping was sent; 0 when the last one was answered. */
  pingedAt: number;
}

/**
 * Pings every socket each `intervalMs` and terminates one that has not answered its ping within `intervalMs`.
 * One timer ticks for all sockets and each socket keeps one pong listener, instead of an interval, a timeout and a
 * listener made per socket and per ping: at 10,000 held sockets those were most of the idle CPU and several
 * objects per connection. A socket's pings fall due `intervalMs` after it connected, so they are spread out, not
 * sent in bursts.
 */
export class KeepAlive {
  private readonly peers = new Map<WebSocket, Peer>();
  private readonly timer: NodeJS.Timeout;
  // Every socket gets these same two listeners (an emitter calls a listener with itself as `this`): a function and
  // its context made per socket would stay as long as the socket, ~160 bytes of each of 10,000 held sockets.
  private readonly onPong: (this: WebSocket) => void;
  private readonly onClose: (this: WebSocket) => void;

  constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(1_000, intervalMs / 4)));
    this.timer.unref();
    const peers = this.peers;
    this.onPong = function (this: WebSocket) {
      const peer = peers.get(this);
      if (peer) peer.pingedAt = 0;
    };
    this.onClose = function (this: WebSocket) {
      peers.delete(this);
    };
  }

  watch(socket: WebSocket): void {
    this.peers.set(socket, { nextPingAt: Date.now() + this.intervalMs, pingedAt: 0 });
    socket.on('pong', this.onPong);
    socket.on('close', this.onClose);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    for (const [socket, peer] of this.peers) {
      if (peer.pingedAt !== 0 && now - peer.pingedAt >= this.intervalMs) {
        this.peers.delete(socket);
        socket.terminate();
        continue;
      }
      if (now < peer.nextPingAt || socket.readyState !== socket.OPEN) continue;
      peer.nextPingAt = now + this.intervalMs;
      if (peer.pingedAt === 0) peer.pingedAt = now;
      socket.ping();
    }
  }
}
