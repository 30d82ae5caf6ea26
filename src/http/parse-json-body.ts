import type { IncomingMessage } from 'node:http';

/**
 * Hands Yoga a JSON body read by readBodyFirst already parsed, in place of its Buffer. Given a Buffer,
 * @whatwg-node/server first tests it with `Object.keys(body)`, which lists the index of every byte (700 strings
 * for a typical publish: 2.7 % of the server's CPU on the mutation path, bench/README.md), and then parses it
 * itself. Given a parsed object it serves `request.json()` from it. The parse is the same JSON.parse, done once.
 *
 * Only a body with a JSON content type that parses to a non-empty object or array is replaced. Anything else stays
 * as it was read, and Yoga answers it as before: invalid JSON (with its own error), a JSON string or number, `{}`
 * or `[]`, or another content type (for which @whatwg-node/server would otherwise claim JSON).
 */
export function parseJsonBody(request: IncomingMessage & { body?: unknown }): void {
  if (!(request.body instanceof Buffer) || !request.headers['content-type']?.includes('json')) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    return;
  }
  // An empty one would be taken for no body at all.
  if (typeof parsed === 'object' && parsed !== null && Object.keys(parsed).length > 0) request.body = parsed;
}
