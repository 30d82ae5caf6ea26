import type { SessionRef } from '../events/types.js';

/** The live pub/sub channel of a session: one channel = one subscription topic. */
export function channelKey({ userId, sessionId }: SessionRef): string {
  return `channel:user_${userId}:session_${sessionId}`;
}

/** The Redis Stream holding a session's bounded history. */
export function streamKey({ userId, sessionId }: SessionRef): string {
  return `stream:user_${userId}:session_${sessionId}`;
}

/** The hash holding a session's owner and timestamps. */
export function sessionKey(sessionId: string): string {
  return `session:${sessionId}`;
}
