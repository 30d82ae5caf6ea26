import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { GatewayCloseCode } from '../../src/ws/close-codes.js';
import { guardedSend } from '../../src/ws/slow-consumer.js';

const SEND_TIMEOUT = 1_000;
const GRACE = 5_000;

/** The part of a ws socket the guard uses; a send completes only when the test says so. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  unsent: ((err?: Error) => void)[] = [];
  closedWith: number | undefined;
  terminated = false;
  send(_data: string, done: (err?: Error) => void) {
    this.unsent.push(done);
  }
  flush() {
    for (const done of this.unsent.splice(0)) done();
  }
  close(code: number) {
    this.closedWith = code;
  }
  terminate() {
    this.terminated = true;
  }
}

function guarded() {
  const socket = new FakeSocket();
  const slow: unknown[] = [];
  const send = guardedSend(socket as unknown as WebSocket, { sendTimeoutMs: SEND_TIMEOUT, closeGraceMs: GRACE, onSlow: (s) => slow.push(s) });
  return { socket, send, slow };
}

describe('the slow-consumer guard', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps a peer whose sends leave in time, and leaves no timer once they have', async () => {
    const { socket, send, slow } = guarded();
    for (let i = 0; i < 3; i++) {
      const sent = send('frame');
      vi.advanceTimersByTime(SEND_TIMEOUT - 100);
      socket.flush();
      await sent;
    }
    vi.advanceTimersByTime(SEND_TIMEOUT * 3);
    expect([slow.length, socket.closedWith, vi.getTimerCount()]).toEqual([0, undefined, 0]);
  });

  it('closes a peer whose oldest send waits past the timeout with 4104, once, and destroys it after the grace', () => {
    const { socket, send, slow } = guarded();
    void send('frame');
    vi.advanceTimersByTime(SEND_TIMEOUT / 2);
    void send('frame');
    vi.advanceTimersByTime(SEND_TIMEOUT / 2);
    expect(socket.closedWith).toBe(GatewayCloseCode.SlowConsumer);
    expect(slow).toEqual([socket]);
    vi.advanceTimersByTime(SEND_TIMEOUT * 2);
    expect(slow).toHaveLength(1);
    expect(socket.terminated).toBe(false);
    vi.advanceTimersByTime(GRACE);
    expect(socket.terminated).toBe(true);
  });

  it("does not destroy a peer that closes within the grace, and one socket's close leaves another's guard armed", () => {
    const a = guarded();
    const b = guarded();
    void a.send('frame');
    void b.send('frame');
    vi.advanceTimersByTime(SEND_TIMEOUT);
    expect([a.socket.closedWith, b.socket.closedWith]).toEqual([GatewayCloseCode.SlowConsumer, GatewayCloseCode.SlowConsumer]);
    a.socket.emit('close');
    vi.advanceTimersByTime(GRACE);
    expect([a.socket.terminated, b.socket.terminated]).toEqual([false, true]);
  });

  it('resolves a send on a socket that is no longer open without sending it', async () => {
    const { socket, send } = guarded();
    socket.readyState = 3;
    await send('frame');
    expect(socket.unsent).toHaveLength(0);
  });
});
