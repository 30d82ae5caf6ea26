import type { WebSocket } from 'ws';
import { GatewayCloseCode } from './close-codes.js';

export interface SlowConsumerOptions {
  /** A message not handed to the kernel within this long marks the peer as too slow. */
  sendTimeoutMs: number;
  /** After the close frame, how long the peer has to read up to it before the socket is destroyed. */
  closeGraceMs: number;
  /** Called once when the socket is closed for being slow. */
  onSlow?: () => void;
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
  /** Start times of the sends still waiting for the kernel, oldest first (sends complete in order). */
  const pending: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closing = false;

  const closeAsSlow = () => {
    if (closing) return;
    closing = true;
    options.onSlow?.();
    socket.close(GatewayCloseCode.SlowConsumer, 'Slow consumer: resume with after');
    const destroy = setTimeout(() => socket.terminate(), options.closeGraceMs);
    socket.on('close', () => clearTimeout(destroy));
  };

  // One timer per socket, and only while something is waiting: armed for the oldest pending send.
  const arm = () => {
    timer = undefined;
    const oldest = pending[0];
    if (oldest === undefined || closing) return;
    const left = oldest + options.sendTimeoutMs - Date.now();
    if (left <= 0) return closeAsSlow();
    timer = setTimeout(arm, left);
  };
  socket.on('close', () => clearTimeout(timer));

  return (data) =>
    new Promise<void>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN || closing) return resolve();
      pending.push(Date.now());
      if (!timer) timer = setTimeout(arm, options.sendTimeoutMs);
      socket.send(data, (err) => {
        pending.shift();
        if (err) reject(err);
        else resolve();
      });
    });
}
