import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalescedWrites } from '../../src/bus/coalesced-writes.js';

/** A socket stand-in that records each call that reaches it: one entry per `write`/`writev`, with its chunks. */
function recordingSocket() {
  const calls: string[][] = [];
  const socket = new Writable({
    decodeStrings: false,
    write(chunk, _encoding, done) {
      calls.push([String(chunk)]);
      done();
    },
    writev(chunks, done) {
      calls.push(chunks.map(({ chunk }) => String(chunk)));
      done();
    },
  });
  return { socket, calls };
}

/** Resolves in the check phase of this turn of the event loop, after the coalescer's own immediate. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('coalescedWrites', () => {
  it('sends the writes of one turn as one call, at the end of that turn', async () => {
    const { socket, calls } = recordingSocket();
    const coalesce = coalescedWrites(() => socket);
    for (const command of ['HGETALL a', 'FCALL b', 'FCALL c']) {
      coalesce();
      socket.write(command);
    }
    expect(calls).toEqual([]);
    await endOfTurn();
    expect(calls).toEqual([['HGETALL a', 'FCALL b', 'FCALL c']]);
    expect(socket.writableCorked).toBe(0);
  });

  it('starts afresh in the next turn, and leaves writes made without it alone', async () => {
    const { socket, calls } = recordingSocket();
    const coalesce = coalescedWrites(() => socket);
    coalesce();
    socket.write('first');
    await endOfTurn();
    socket.write('uncoalesced');
    expect(calls).toEqual([['first'], ['uncoalesced']]);
    coalesce();
    socket.write('second');
    coalesce();
    socket.write('third');
    await endOfTurn();
    expect(calls).toEqual([['first'], ['uncoalesced'], ['second', 'third']]);
  });

  it('follows a replaced socket and still releases the old one', async () => {
    const old = recordingSocket();
    const replacement = recordingSocket();
    let current: Writable | undefined = old.socket;
    const coalesce = coalescedWrites(() => current);
    coalesce();
    old.socket.write('before the reconnect');
    current = replacement.socket;
    coalesce();
    replacement.socket.write('after it');
    await endOfTurn();
    expect(old.calls).toEqual([['before the reconnect']]);
    expect(replacement.calls).toEqual([['after it']]);
    expect([old.socket.writableCorked, replacement.socket.writableCorked]).toEqual([0, 0]);
  });

  it('does nothing while there is no socket', () => {
    const coalesce = coalescedWrites(() => undefined);
    expect(() => coalesce()).not.toThrow();
  });
});
