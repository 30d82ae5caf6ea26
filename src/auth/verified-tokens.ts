import type { Principal } from './principal.js';

/** Tokens remembered at most; the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000;
/** A token without an expiry is verified again after this long (a JWKS key may have been rotated out). */
const MAX_REMEMBER_MS = 60_000;

/**
 * Principals of tokens that verified, by the token's exact text. An agent sends the same token with every publish,
 * and verifying it (WebCrypto HMAC or RSA, claims) costs more CPU than the rest of the publish. A token is
 * immutable, so the same text verifies to the same principal until it expires: an entry lives until the token's
 * `exp` (or MAX_REMEMBER_MS), never longer. Failures are never remembered.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.principal;
    this.entries.delete(token);
    return undefined;
  }

  remember(token: string, principal: Principal): Principal {
    const expiresAt = 'expiresAt' in principal ? principal.expiresAt : undefined;
    const until = Math.min(expiresAt ?? Infinity, this.now() + MAX_REMEMBER_MS);
    if (this.entries.size >= MAX_REMEMBERED) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, until });
    return principal;
  }
}
