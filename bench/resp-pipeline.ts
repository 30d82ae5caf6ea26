import { connect, type Socket } from 'node:net';

/**
 * The FCALL driver's connection to Redis: commands encoded straight into one Buffer per batch and written at once,
 * and replies only counted, with each error's code. At 15,000 FCALLs/s ioredis (a command object and a promise per
 * call, its argument encoding and reply objects) took 22 % of the load generator's core, which Redis and the
 * browsers share: that alone stopped the ladder before the server did. This does the same on the wire for a few µs.
 *
 * RESP2 replies, read in order: `+` `-` `:` (one line), `$` (a bulk string, or `$-1`), `*` (that many replies).
 */

export interface BatchReplies {
  /** Replies that were not errors. */
  ok: number;
  /** Error replies by their first word (the code, e.g. `SESSION_NOT_FOUND`). */
  errors: Record<string, number>;
}

interface PendingBatch {
  remaining: number;
  replies: BatchReplies;
  resolve: (replies: BatchReplies) => void;
}

const CRLF = 0x0d;

/** `*<n>\r\n$<len>\r\n<arg>\r\n…` for each command. */
export function encodeCommands(commands: readonly (readonly string[])[]): Buffer {
  let text = '';
  for (const args of commands) {
    text += `*${args.length}\r\n`;
    for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  }
  return Buffer.from(text);
}

/**
 * Where the reply starting at `at` ends (the offset after it), or -1 when `buffer` does not hold all of it yet.
 * `onError` gets the text of an error reply at the top level only.
 */
export function replyEnd(buffer: Buffer, at: number, onError?: (message: string) => void): number {
  const lineEnd = buffer.indexOf(CRLF, at);
  if (lineEnd < 0 || lineEnd + 1 >= buffer.length) return -1;
  const next = lineEnd + 2;
  switch (buffer[at]) {
    case 0x2d: // '-'
      onError?.(buffer.toString('utf8', at + 1, lineEnd));
      return next;
    case 0x2b: // '+'
    case 0x3a: // ':'
      return next;
    case 0x24: {
      // '$'
      const length = Number(buffer.toString('latin1', at + 1, lineEnd));
      if (length < 0) return next;
      return next + length + 2 <= buffer.length ? next + length + 2 : -1;
    }
    case 0x2a: {
      // '*'
      let end = next;
      const count = Number(buffer.toString('latin1', at + 1, lineEnd));
      for (let i = 0; i < count; i += 1) {
        end = replyEnd(buffer, end);
        if (end < 0) return -1;
      }
      return end;
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buffer.toString('latin1', at, Math.min(buffer.length, at + 40)))}`);
  }
}

export class RespPipeline {
  private readonly pending: PendingBatch[] = [];
  private unread: Buffer = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A lost connection fails every batch still waiting, each reply counted as an error of this code.
    socket.on('close', () => this.failPending('CONNECTION_CLOSED'));
    socket.on('error', () => {});
  }

  static open(redisUrl: string): Promise<RespPipeline> {
    const { hostname, port } = new URL(redisUrl);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port || 6379) }, () => {
        socket.off('error', reject);
        resolve(new RespPipeline(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends `count` encoded commands at once; resolves when all their replies are in. */
  send(encoded: Buffer, count: number): Promise<BatchReplies> {
    return new Promise((resolve) => {
      this.pending.push({ remaining: count, replies: { ok: 0, errors: {} }, resolve });
      this.socket.write(encoded);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private onData(chunk: Buffer): void {
    const buffer = this.unread.length ? Buffer.concat([this.unread, chunk]) : chunk;
    let at = 0;
    while (at < buffer.length && this.pending.length) {
      const batch = this.pending[0]!;
      let failed: string | undefined;
      const end = replyEnd(buffer, at, (message) => (failed = message));
      if (end < 0) break;
      at = end;
      if (failed === undefined) batch.replies.ok += 1;
      else {
        const code = failed.split(' ')[0] || 'ERROR';
        batch.replies.errors[code] = (batch.replies.errors[code] ?? 0) + 1;
      }
      if (--batch.remaining === 0) {
        this.pending.shift();
        batch.resolve(batch.replies);
      }
    }
    this.unread = buffer.subarray(at);
  }

  private failPending(code: string): void {
    for (const batch of this.pending.splice(0)) {
      batch.replies.errors[code] = (batch.replies.errors[code] ?? 0) + batch.remaining;
      batch.resolve(batch.replies);
    }
  }
}
