import { errorCodeOf, GraphQLHttpClient } from './http-client.js';
import { userToken } from './tokens.js';

/**
 * The benchmark's browsers: subscriber `i` is user `b<run>u<i>` with its own session `b<run>s<i>`, started through
 * the gateway's public `startSession` mutation with that user's JWT. Drivers derive the same names to publish.
 */
export interface BenchSession {
  index: number;
  userId: string;
  sessionId: string;
}

export function benchSession(runId: string, index: number): BenchSession {
  return { index, userId: `b${runId}u${index}`, sessionId: `b${runId}s${index}` };
}

export function benchSessions(runId: string, from: number, count: number): BenchSession[] {
  return Array.from({ length: count }, (_, offset) => benchSession(runId, from + offset));
}

const START_SESSION = 'mutation StartSession($sessionId: ID) { startSession(sessionId: $sessionId) { id status } }';

export interface SessionsStarted {
  started: number;
  errors: Record<string, number>;
  elapsedMs: number;
}

/** Starts each session as its owner would, `concurrency` at a time; returns what failed by error code. */
export async function startSessions(graphqlUrl: string, sessions: readonly BenchSession[], tokens: ReadonlyMap<string, string>, concurrency: number): Promise<SessionsStarted> {
  const client = new GraphQLHttpClient(graphqlUrl, concurrency);
  const errors: Record<string, number> = {};
  let started = 0;
  let next = 0;
  const begin = performance.now();
  async function lane() {
    while (next < sessions.length) {
      const session = sessions[next++]!;
      try {
        const reply = await client.post(tokens.get(session.userId)!, START_SESSION, { sessionId: session.sessionId });
        const code = errorCodeOf(reply);
        if (code) errors[code] = (errors[code] ?? 0) + 1;
        else started += 1;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'REQUEST_FAILED';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  client.close();
  return { started, errors, elapsedMs: performance.now() - begin };
}

/** Each user's JWT, minted once: used for startSession and again in the WebSocket's connection_init. */
export async function mintUserTokens(sessions: readonly BenchSession[]): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const session of sessions) tokens.set(session.userId, await userToken(session.userId));
  return tokens;
}
