/**
 * Prints a development JWT the gateway accepts when it runs with JWT_SECRET (HS256):
 *
 *   JWT_SECRET=… npx tsx scripts/mint-dev-token.ts --sub alice            # a user: owns and reads sessions
 *   JWT_SECRET=… npx tsx scripts/mint-dev-token.ts --sub planner --agent  # an agent: publishes to any session
 *   JWT_SECRET=… npx tsx scripts/mint-dev-token.ts --sub alice --ttl 600  # valid 10 minutes (default 3600 s)
 *
 * It reads the same variables as the gateway, through the same loader: JWT_SECRET, and JWT_ISSUER, JWT_AUDIENCE,
 * JWT_ROLE_CLAIM (default `role`) and JWT_AGENT_ROLE (default `agent`) when set. Only the token goes to stdout, so
 * `TOKEN=$(npx tsx scripts/mint-dev-token.ts --sub alice)` works. For development only: production tokens come
 * from your identity provider.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ConfigError, loadConfig, type AuthConfig } from '../src/config.js';

export interface DevTokenOptions {
  /** The user id (or agent id): the token's `sub`. */
  sub: string;
  /** Mark the bearer as an agent (JWT_ROLE_CLAIM = JWT_AGENT_ROLE). */
  agent: boolean;
  /** Seconds until it expires. */
  ttlSeconds: number;
}

const USAGE = 'usage: JWT_SECRET=… npx tsx scripts/mint-dev-token.ts --sub <user id> [--agent] [--ttl <seconds, default 3600>]';

/** The variables that decide what the gateway accepts; nothing else in the environment concerns a token. */
const JWT_VARIABLES = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_ROLE_CLAIM', 'JWT_AGENT_ROLE'];

/** The gateway's reading of the JWT variables; a ConfigError when they do not name an HS256 secret. */
export function authConfigOf(env: NodeJS.ProcessEnv): AuthConfig & { secret: string } {
  const auth = loadConfig(Object.fromEntries(JWT_VARIABLES.map((name) => [name, env[name]])), false).auth;
  if (!auth?.secret) {
    throw new ConfigError('set JWT_SECRET (at least 32 characters): this script signs HS256 tokens; with JWT_PUBLIC_KEY or JWT_JWKS_URL, get tokens from your identity provider');
  }
  return auth as AuthConfig & { secret: string };
}

export function mintDevToken(options: DevTokenOptions, auth: AuthConfig & { secret: string }): Promise<string> {
  let jwt = new SignJWT(options.agent ? { [auth.roleClaim]: auth.agentRole } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  return jwt.sign(new TextEncoder().encode(auth.secret));
}

/** The command line's options; throws a usage message for anything else. */
export function parseCommandLine(args: string[]): DevTokenOptions {
  const { values } = parseArgs({
    args,
    options: { sub: { type: 'string' }, agent: { type: 'boolean', default: false }, ttl: { type: 'string', default: '3600' } },
    strict: true,
  });
  if (!values.sub) throw new Error(`--sub is required\n${USAGE}`);
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error(`--ttl must be a whole number of seconds, at least 1, got "${values.ttl}"\n${USAGE}`);
  return { sub: values.sub, agent: values.agent, ttlSeconds };
}

async function main(): Promise<void> {
  let options: DevTokenOptions;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message.includes('usage:') ? (error as Error).message : `${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    process.stdout.write(`${await mintDevToken(options, authConfigOf(process.env))}\n`);
  } catch (error) {
    console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
    process.exitCode = 1;
  }
}

/** True when run as a command, false when imported (e.g. by a test). */
function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) await main();
