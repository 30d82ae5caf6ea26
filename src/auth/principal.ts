/** Who is calling, as established once per HTTP request or per WebSocket connection. */
export type Principal =
  /** A person using a UI: starts, reads, follows and ends their own sessions. */
  | { kind: 'user'; userId: string; expiresAt?: number }
  /** An agent with a global credential (a JWT whose role claim says agent): publishes to any session, reads none. */
  | { kind: 'agent'; agentId: string; expiresAt?: number }
  /** A publish token from startSession: publishes to that one session and nothing else. */
  | { kind: 'session-publisher'; sessionId: string; userId: string; expiresAt: number }
  /** No credentials. */
  | { kind: 'anonymous' };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
