import { followSession, type FollowStream } from '../progress/follow-session.js';
import { observeSubscription } from '../progress/observe-subscription.js';
import type { GatewayContext } from './context.js';
import { afterSeq, checkCursor, ownSession, safeId } from './session-access.js';

/** Events read from history per round trip, for replays and queries. */
export const PAGE_SIZE = 500;

export interface ProgressArgs {
  sessionId: string | number;
  requestId?: string | number | null | undefined;
  after?: string | number | null | undefined;
}

/**
 * What `agentProgress` streams, on any transport: the caller's own session, its history after `after`, then live.
 * Refuses up front (throws a coded error) a session that is not the caller's, a bad id or a bad or expired cursor;
 * afterwards errors arrive as a `{ error }` item that ends the stream.
 */
export async function followProgress(context: GatewayContext, args: ProgressArgs): Promise<FollowStream> {
  const { ref } = await ownSession(context, args.sessionId);
  const requestId = args.requestId == null ? undefined : safeId(args.requestId, 'requestId');
  const after = afterSeq(args.after);
  const { config, eventLog, metrics, log } = context.services;
  const { principal } = context;
  // Refuse a bad cursor up front, as a subscription error rather than an event.
  checkCursor(await eventLog.read(ref, after ?? 0, 1), after);
  // graphql-ws operations run with the socket in their context; the others arrive over an HTTP stream (SSE).
  const transport = 'socket' in context ? 'ws' : 'sse';
  // A literal rather than spreads of optional parts: V8 gives an object built by spreading a shape of its own with
  // spare room, and the follower keeps its options for as long as the subscription runs.
  return followSession(eventLog, ref, {
    afterSeq: after,
    requestId,
    pageSize: PAGE_SIZE,
    maxBuffered: config.subscriberBuffer,
    idleCheckMs: config.idleCheckMs,
    // No stream outlives its credential: WebSockets are closed then (4101); SSE streams end with an error.
    expiresAt: 'expiresAt' in principal ? principal.expiresAt : undefined,
    observer: observeSubscription(metrics, transport, log, ref.sessionId, requestId),
  });
}
