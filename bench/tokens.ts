import { SignJWT } from 'jose';

/**
 * The benchmark's identity provider: HS256 JWTs signed with the secret the gateway is started with (the gateway
 * needs no `iss`/`aud` unless JWT_ISSUER/JWT_AUDIENCE are set; the bench sets neither). Secrets for a throwaway
 * gateway on 127.0.0.1, nothing else.
 */
export const BENCH_JWT_SECRET = 'bench-jwt-secret-for-a-private-gateway-only';
export const BENCH_PUBLISH_TOKEN_SECRET = 'bench-publish-token-secret-for-a-private-gateway';

const key = new TextEncoder().encode(BENCH_JWT_SECRET);

/** Long enough for any run: a WebSocket whose token expires is closed (4101), which would read as an error. */
const VALIDITY_SECONDS = 24 * 3600;

function mint(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt(now).setExpirationTime(now + VALIDITY_SECONDS).sign(key);
}

/** A browser's user: `sub` becomes the user id that owns the sessions it starts. */
export function userToken(userId: string): Promise<string> {
  return mint(userId);
}

/** An agent (role claim `agent`): may publish to any session, which the mutation drivers do. */
export function agentToken(agentId = 'bench-agent'): Promise<string> {
  return mint(agentId, { role: 'agent' });
}
