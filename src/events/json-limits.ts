import { gatewayError } from '../errors.js';

/**
 * Deepest nesting of objects and arrays in an event (the event object itself is level 1), here and inside Redis
 * (`cjson.decode_max_depth`). Deeper values would overflow the stack of recursive JSON and validation code.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether objects and arrays nest deeper than `max`; iterative, so any depth is safe to ask about. */
export function jsonDepthExceeds(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Refuses a value nested too deeply (BAD_USER_INPUT) or larger than `maxBytes` as JSON (PAYLOAD_TOO_LARGE). */
export function assertJsonWithin(value: unknown, maxBytes: number, what: string): void {
  if (jsonDepthExceeds(value)) throw gatewayError('BAD_USER_INPUT', `${what} nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`);
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) throw gatewayError('PAYLOAD_TOO_LARGE', `${what} exceeds ${maxBytes} bytes.`);
}
