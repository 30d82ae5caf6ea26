import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { createPublishTokens } from '../../src/auth/publish-tokens.js';
import { loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'mint-dev-token-secret-of-at-least-32-chars';

/** Runs the script as the README does (tsx), with only `env` for JWT settings. */
async function mint(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JWT_')));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/mint-dev-token.ts', ...args], {
      cwd: ROOT,
      env: { ...base, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** Who the gateway, configured from `env`, says the bearer of `token` is. */
function principalOf(token: string, env: Record<string, string>) {
  const authenticator = createAuthenticator(loadConfig(env, false).auth, createPublishTokens(undefined, 60_000));
  return authenticator.ofRequest(new Request('http://gateway/graphql', { headers: { authorization: `Bearer ${token}` } }));
}

describe('scripts/mint-dev-token.ts', () => {
  it('prints a user token the gateway accepts, valid for --ttl seconds', async () => {
    const env = { JWT_SECRET: SECRET };
    const { code, stdout } = await mint(['--sub', 'alice', '--ttl', '600'], env);
    expect(code).toBe(0);
    const token = stdout.trim();
    expect(stdout).toBe(`${token}\n`);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'alice' });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload).not.toHaveProperty('role');
    expect(await principalOf(token, env)).toEqual({ kind: 'user', userId: 'alice', expiresAt: payload.exp! * 1000 });
  });

  it('with --agent, sets JWT_ROLE_CLAIM to JWT_AGENT_ROLE and respects JWT_ISSUER and JWT_AUDIENCE', async () => {
    const env = { JWT_SECRET: SECRET, JWT_ISSUER: 'https://idp.dev', JWT_AUDIENCE: 'progress', JWT_ROLE_CLAIM: 'kind', JWT_AGENT_ROLE: 'robot' };
    const { code, stdout } = await mint(['--sub', 'planner', '--agent'], env);
    expect(code).toBe(0);
    const token = stdout.trim();
    expect(decodeJwt(token)).toMatchObject({ sub: 'planner', kind: 'robot', iss: 'https://idp.dev', aud: 'progress' });
    expect(decodeJwt(token).exp! - decodeJwt(token).iat!).toBe(3600);
    expect(await principalOf(token, env)).toMatchObject({ kind: 'agent', agentId: 'planner' });
  });

  it('names what is missing: JWT_SECRET, or --sub', async () => {
    const noSecret = await mint(['--sub', 'alice'], {});
    expect(noSecret).toMatchObject({ code: 1, stdout: '' });
    expect(noSecret.stderr).toContain('JWT_SECRET');
    const noSub = await mint([], { JWT_SECRET: SECRET });
    expect(noSub).toMatchObject({ code: 2, stdout: '' });
    expect(noSub.stderr).toContain('--sub is required');
  });
});
