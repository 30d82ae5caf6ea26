import type { Writable } from 'node:stream';

/**
 * Gathers the writes to a connection that one turn of the event loop makes into one system call.
 *
 * Under load every HTTP request and every Redis reply arrives in an I/O callback of its own, and the commands it
 * leads to would each be written by a `write` call of their own: at 3,000 publishes/s that was ~12 % of the
 * gateway's CPU (bench/README.md). The returned function corks the connection's current socket the first time it
 * is called in a turn and uncorks it in that turn's check phase (`setImmediate`), after the poll phase has run every
 * ready callback; Node then writes what was buffered with one `writev`. Nothing is reordered or held past the turn,
 * and the client library still sends, times and fails each command as before.
 */
export function coalescedWrites(currentSocket: () => Writable | undefined): () => void {
  let corked: Writable | undefined;
  return function coalesce() {
    const socket = currentSocket();
    // A reconnect replaces the socket; the old one, if still corked, is uncorked by its own immediate.
    if (!socket || socket === corked) return;
    corked = socket;
    socket.cork();
    setImmediate(() => {
      if (corked === socket) corked = undefined;
      socket.uncork();
    });
  };
}
