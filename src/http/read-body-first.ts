import type { IncomingMessage } from 'node:http';

/**
 * How reading a request's body ended: `read` (a POST body, whole, in `request.body`), `none` (not a POST, or an
 * empty body: nothing to read), `too-large` (over the limit, declared or counted: not read further), `aborted`
 * (the client left before the end; the request is destroyed).
 */
export type BodyReading = 'read' | 'none' | 'too-large' | 'aborted';

/**
 * Reads a POST body within `maxBytes` into one Buffer and hands it to Yoga as `request.body`, which
 * @whatwg-node/server then uses as is. Otherwise Yoga reads the body through a WHATWG stream pipeline, and counts its
 * size through a second one; together they cost more CPU than executing the mutation itself (profiled on the
 * publish path, bench/README.md). A chunked body (no Content-Length) is counted as it arrives, so the limit holds
 * for it too; a body over the limit is not read further (see use-request-body-limit.ts for the answer).
 */
export function readBodyFirst(request: IncomingMessage, maxBytes: number): Promise<BodyReading> {
  if (request.method !== 'POST') return Promise.resolve('none');
  const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
  if (declared === 0) return Promise.resolve('none');
  if (declared !== undefined && declared > maxBytes) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const settle = (reading: BodyReading) => {
      settled = true;
      request.off('data', onData);
      resolve(reading);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return settle('too-large'); // still flowing, so the rest is read and dropped
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (settled) return;
      if (bytes > 0) (request as IncomingMessage & { body?: Buffer }).body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      settle(bytes > 0 ? 'read' : 'none');
    });
    request.once('close', () => {
      if (settled) return;
      request.destroy();
      settle('aborted');
    });
  });
}
