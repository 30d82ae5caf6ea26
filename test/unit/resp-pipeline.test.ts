import { describe, expect, it } from 'vitest';
import { encodeCommands, replyEnd } from '../../bench/resp-pipeline.js';

// The benchmark's FCALL driver writes and counts RESP by hand; against a real Redis it runs in bench-smoke.test.ts.
describe("the benchmark driver's RESP reading", () => {
  const replies = ['*2\r\n:7\r\n:1765000000000\r\n', '-SESSION_NOT_FOUND no such session\r\n', '$5\r\nhello\r\n', '$-1\r\n', '+OK\r\n', '*2\r\n$3\r\nabc\r\n*1\r\n:1\r\n'];
  const wire = Buffer.from(replies.join(''));

  it('finds the end of every kind of reply, and names an error only at the top level', () => {
    const errors: string[] = [];
    const ends: number[] = [];
    for (let at = 0; at < wire.length; ) {
      at = replyEnd(wire, at, (message) => errors.push(message));
      ends.push(at);
    }
    let offset = 0;
    expect(ends).toEqual(replies.map((reply) => (offset += reply.length)));
    expect(errors).toEqual(['SESSION_NOT_FOUND no such session']);
  });

  it('answers -1 for every reply cut short, wherever the cut falls', () => {
    for (const reply of replies) {
      const whole = Buffer.from(reply);
      for (let cut = 1; cut < whole.length; cut += 1) expect(replyEnd(whole.subarray(0, cut), 0)).toBe(-1);
      expect(replyEnd(whole, 0)).toBe(whole.length);
    }
  });

  it('encodes arguments by their length in bytes', () => {
    expect(encodeCommands([['FCALL', 'é']]).toString()).toBe('*2\r\n$5\r\nFCALL\r\n$2\r\né\r\n');
  });
});
