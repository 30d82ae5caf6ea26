import { createHash } from 'node:crypto';
import { gatewayError } from '../errors.js';

/** What an idempotency key may look like (a UUID fits); the Redis Function checks the same. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

export function assertIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) throw gatewayError('BAD_USER_INPUT', 'idempotencyKey: 1 to 128 characters of A-Z a-z 0-9 _ . : -');
}

/** Identifies the events a key published, so a retry can be told from a reuse (the Redis Function hashes the same). */
export function eventsFingerprint(jsons: string[]): string {
  return createHash('sha1').update(jsons.join('\n')).digest('hex');
}
