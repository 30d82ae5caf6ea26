import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'agent-progress-gateway';
/** Only tokens with this audience are publish tokens; the gateway never accepts them as anything else. */
export const PUBLISH_AUDIENCE = 'agent-progress-gateway:publish';

export interface PublishToken {
  token: string;
  expiresAt: number;
}

export interface PublishTokens {
  issue(sessionId: string, userId: string): Promise<PublishToken>;
  /** The session and owner a token is for; throws (jose errors) when it is invalid or expired. */
  verify(token: string): Promise<{ sessionId: string; userId: string; expiresAt: number }>;
}

/**
 * Session-scoped tokens for agents: HS256 with the gateway's own secret, `aud` marking them as publish tokens,
 * `sid` naming the session. Without a configured secret, a random one per process.
 */
export function createPublishTokens(secret: string | undefined, ttlMs: number): PublishTokens {
  const key = secret ? new TextEncoder().encode(secret) : randomBytes(32);
  return {
    async issue(sessionId, userId) {
      const expiresAt = Math.floor((Date.now() + ttlMs) / 1000) * 1000;
      const token = await new SignJWT({ sid: sessionId, uid: userId })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setAudience(PUBLISH_AUDIENCE)
        .setSubject(`session:${sessionId}`)
        .setIssuedAt()
        .setExpirationTime(expiresAt / 1000)
        .sign(key);
      return { token, expiresAt };
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: PUBLISH_AUDIENCE, algorithms: ['HS256'] });
      if (typeof payload['sid'] !== 'string' || typeof payload['uid'] !== 'string' || payload.exp === undefined) {
        throw new Error('publish token without sid, uid or exp');
      }
      return { sessionId: payload['sid'], userId: payload['uid'], expiresAt: payload.exp * 1000 };
    },
  };
}
