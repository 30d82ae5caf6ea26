import type { IncomingMessage } from 'node:http';

/**
 * Reads a POST body of a declared length within `maxBytes` into one Buffer and hands it to Yoga as `request.body`,
 * which @whatwg-node/server then uses as is. Otherwise Yoga reads the body through a WHATWG stream pipeline, which
 * cost more CPU than executing the mutation itself (profiled on the publish path, bench/README.md). Bodies without
 * a length (chunked) or over the limit are left to Yoga, which counts and refuses them as before. Resolves once the
 * request can be handed on; a request that ends early is destroyed and never handed on.
 */
export function readBodyFirst(request: IncomingMessage, maxBytes: number): Promise<boolean> {
  const declared = Number(request.headers['content-length']);
  if (request.method !== 'POST' || !Number.isSafeInteger(declared) || declared <= 0 || declared > maxBytes) return Promise.resolve(true);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let complete = false;
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      complete = true;
      (request as IncomingMessage & { body?: Buffer }).body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(true);
    });
    request.once('close', () => {
      if (complete) return;
      request.destroy();
      resolve(false);
    });
  });
}
