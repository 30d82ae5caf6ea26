import { createHash, createPublicKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config.js';
import { gatewayError } from '../errors.js';
import { isSafeId } from '../ids.js';
import { tokenOfConnection, tokenOfRequest } from './credentials.js';
import { devUserOfConnectionParams, devUserOfRequest } from './dev-identity.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { PUBLISH_AUDIENCE, type PublishTokens } from './publish-tokens.js';
import { VerifiedTokens } from './verified-tokens.js';

export interface Authenticator {
  /** True without authentication configured: callers are who they claim to be. */
  readonly development: boolean;
  /** The caller of an HTTP or SSE request; UNAUTHENTICATED for credentials that do not verify. */
  ofRequest(request: Request): Promise<Principal>;
  /** The caller of a WebSocket, from its connection parameters or upgrade request. */
  ofConnection(params: Readonly<Record<string, unknown>> | undefined, upgrade: IncomingMessage | undefined): Promise<Principal>;
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * A `sub` becomes the user id. Ids name Redis keys and channels, so a `sub` outside the safe alphabet (an email,
 * `auth0|123`) is replaced by a digest of itself: stable, collision-free in practice, and unforgeable.
 */
export function userIdOfSubject(sub: string): string {
  return isSafeId(sub) ? sub : `sub_${createHash('sha256').update(sub).digest('base64url')}`;
}

/** Whether a token is one of the gateway's publish tokens (by its audience; verified separately). */
function isPublishToken(token: string): boolean {
  try {
    const audience = decodeJwt(token).aud;
    return audience === PUBLISH_AUDIENCE || (Array.isArray(audience) && audience.includes(PUBLISH_AUDIENCE));
  } catch {
    return false;
  }
}

function unauthenticated(error: unknown) {
  if (error instanceof joseErrors.JWTExpired) return gatewayError('UNAUTHENTICATED', 'The token has expired.', { reason: 'TOKEN_EXPIRED' });
  return gatewayError('UNAUTHENTICATED', 'The token is not valid.', { reason: 'INVALID_TOKEN' });
}

export function createAuthenticator(auth: AuthConfig | undefined, publishTokens: PublishTokens): Authenticator {
  /** The session publisher a publish token names; undefined for any other token (or none). */
  async function publisherOf(token: string | undefined): Promise<Principal | undefined> {
    if (token === undefined || !isPublishToken(token)) return undefined;
    try {
      return { kind: 'session-publisher', ...(await publishTokens.verify(token)) };
    } catch (error) {
      throw unauthenticated(error);
    }
  }

  if (!auth) {
    // Publish tokens are honoured, and scoped, in development too: a worker behaves as it will in production.
    return {
      development: true,
      ofRequest: async (request) => (await publisherOf(tokenOfRequest(request))) ?? { kind: 'user', userId: devUserOfRequest(request) },
      ofConnection: async (params, upgrade) =>
        (await publisherOf(tokenOfConnection(params, upgrade))) ?? { kind: 'user', userId: devUserOfConnectionParams(params) },
    };
  }
  const key: Uint8Array | ReturnType<typeof createPublicKey> | JWTVerifyGetKey = auth.secret
    ? new TextEncoder().encode(auth.secret)
    : auth.publicKey
      ? createPublicKey(auth.publicKey)
      : createRemoteJWKSet(new URL(auth.jwksUrl!));
  const options = {
    algorithms: auth.secret ? ['HS256'] : ASYMMETRIC,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };

  const verified = new VerifiedTokens();

  async function verify(token: string | undefined): Promise<Principal> {
    if (token === undefined) return ANONYMOUS;
    return verified.get(token) ?? verified.remember(token, await verifyAnew(token));
  }

  async function verifyAnew(token: string): Promise<Principal> {
    const publisher = await publisherOf(token);
    if (publisher) return publisher;
    try {
      // jwtVerify is overloaded on the key's type; both overloads take what `key` may be.
      const { payload } = await jwtVerify(token, key as Uint8Array, options);
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no sub');
      const expiresAt = payload.exp === undefined ? {} : { expiresAt: payload.exp * 1000 };
      if (payload[auth!.roleClaim] === auth!.agentRole) return { kind: 'agent', agentId: payload.sub, ...expiresAt };
      return { kind: 'user', userId: userIdOfSubject(payload.sub), ...expiresAt };
    } catch (error) {
      throw unauthenticated(error);
    }
  }

  return {
    development: false,
    ofRequest: (request) => verify(tokenOfRequest(request)),
    ofConnection: (params, upgrade) => verify(tokenOfConnection(params, upgrade)),
  };
}
