import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { KeepAlive } from '../../src/ws/keep-alive.js';

const INTERVAL = 12_000;

/** The part of a ws socket KeepAlive uses: ping, pong, close, terminate. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  pings = 0;
  terminated = false;
  ping() {
    this.pings++;
  }
  terminate() {
    this.terminated = true;
  }
}

describe('KeepAlive', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings each socket every interval and keeps one that answers', () => {
    const keepAlive = new KeepAlive(INTERVAL);
    const socket = new FakeSocket();
    keepAlive.watch(socket as unknown as WebSocket);
    vi.advanceTimersByTime(INTERVAL - 1_000);
    expect(socket.pings).toBe(0);
    for (let round = 1; round <= 5; round++) {
      vi.advanceTimersByTime(INTERVAL);
      expect(socket.pings).toBe(round);
      socket.emit('pong');
    }
    expect(socket.terminated).toBe(false);
    keepAlive.stop();
  });

  it('terminates a socket that leaves a ping unanswered for an interval', () => {
    const keepAlive = new KeepAlive(INTERVAL);
    const silent = new FakeSocket();
    keepAlive.watch(silent as unknown as WebSocket);
    vi.advanceTimersByTime(INTERVAL + 1_000);
    expect(silent.pings).toBe(1);
    vi.advanceTimersByTime(INTERVAL - 2_000);
    expect(silent.terminated).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect(silent.terminated).toBe(true);
    keepAlive.stop();
  });

  it("counts a pong for the socket that sent it only, though every socket shares one listener", () => {
    const keepAlive = new KeepAlive(INTERVAL);
    const [answering, silent] = [new FakeSocket(), new FakeSocket()];
    for (const socket of [answering, silent]) keepAlive.watch(socket as unknown as WebSocket);
    vi.advanceTimersByTime(INTERVAL + 1_000);
    answering.emit('pong');
    vi.advanceTimersByTime(INTERVAL);
    expect([answering.terminated, silent.terminated]).toEqual([false, true]);
    keepAlive.stop();
  });

  it('forgets a closed socket, and stops with one timer for all sockets', () => {
    const keepAlive = new KeepAlive(INTERVAL);
    const sockets = Array.from({ length: 100 }, () => new FakeSocket());
    for (const socket of sockets) keepAlive.watch(socket as unknown as WebSocket);
    expect(vi.getTimerCount()).toBe(1);
    sockets[0]!.emit('close');
    vi.advanceTimersByTime(INTERVAL + 1_000);
    expect(sockets[0]!.pings).toBe(0);
    expect(sockets[1]!.pings).toBe(1);
    keepAlive.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
