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

const CHANNEL_PATTERN = /^channel:user_([A-Za-z0-9_-]{1,128}):session_([A-Za-z0-9_-]{1,128})$/;

/** The session a channel name belongs to, or undefined for a channel that is not ours. */
export function refOfChannel(channel: string): SessionRef | undefined {
  const match = CHANNEL_PATTERN.exec(channel);
  return match ? { userId: match[1]!, sessionId: match[2]! } : undefined;
}
