import { randomUUID } from 'node:crypto';

/**
 * User, session, request and tool-call ids: letters, digits, `-` and `_`, at most 128 characters.
 * The alphabet keeps ids safe inside Redis key and channel names (no `:` or `*`).
 */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const SAFE_ID_MAX_LENGTH = 128;

export function isSafeId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID_PATTERN.test(value);
}

/** A fresh random id in the safe alphabet. */
export function newId(): string {
  return randomUUID();
}
