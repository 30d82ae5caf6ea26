import type { Redis } from 'ioredis';
import { DEFAULT_CONFIG } from '../src/config.js';
import { buildLibrarySource } from '../src/bus/redis-library.js';
import { benchEvent, nowMs, rawEventJson } from './events.js';

/**
 * What the scripts that measure the Redis Function alone (redis-function-cost.ts, redis-function-instructions.ts)
 * set up in their private Redis: the library, sessions to publish to, and the load benchmark's events.
 */

/** `[stream, session]`, the KEYS of FCALL for session `i`. */
export function sessionKeys(i: number): [string, string] {
  return [`stream:user_u${i}:session_s${i}`, `session:s${i}`];
}

/** Loads the library (default settings) and starts sessions 0 … count − 1, each anew. */
export async function startFunctionSessions(redis: Redis, count: number): Promise<void> {
  await redis.call('FUNCTION', 'LOAD', 'REPLACE', buildLibrarySource(DEFAULT_CONFIG));
  for (let i = 0; i < count; i++) await redis.call('FCALL', 'apg_start_session', 2, ...sessionKeys(i), `u${i}`, '{"type":"SESSION_STARTED"}');
}

/** The load benchmark's three ~300-byte events, as raw JSON. */
export function benchRawEvents(): string[] {
  return [0, 1, 2].map((n) => rawEventJson(benchEvent(n, 1, nowMs())));
}
