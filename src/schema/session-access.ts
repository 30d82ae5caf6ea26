import { requireUser } from '../auth/authorize.js';
import type { HistoryPage, SessionRecord } from '../bus/event-log.js';
import { gatewayError } from '../errors.js';
import { seqOfCursor, type SessionRef } from '../events/types.js';
import { isSafeId } from '../ids.js';
import type { GatewayContext } from './context.js';

/** An id argument in the safe alphabet, or a BAD_USER_INPUT error naming the argument. */
export function safeId(value: string | number, argument: string): string {
  const id = String(value);
  if (!isSafeId(id)) throw gatewayError('BAD_USER_INPUT', `${argument} must be 1–128 letters, digits, - or _.`, { argument });
  return id;
}

/**
 * The caller's own session. Someone else's session is reported exactly like a missing one, so ids cannot be
 * probed for existence.
 */
export async function ownSession(context: GatewayContext, sessionId: string | number): Promise<{ ref: SessionRef; record: SessionRecord }> {
  const userId = requireUser(context.principal);
  const id = safeId(sessionId, 'sessionId');
  const record = await context.services.eventLog.getSession(id);
  if (!record || record.userId !== userId) throw gatewayError('SESSION_NOT_FOUND', 'No such session.');
  return { ref: { userId: record.userId, sessionId: id }, record };
}

/** The seq an `after` argument names, undefined when absent. */
export function afterSeq(after: string | number | null | undefined): number | undefined {
  if (after === null || after === undefined) return undefined;
  const seq = seqOfCursor(String(after));
  if (seq === undefined) throw gatewayError('INVALID_CURSOR', 'after is not a cursor of this gateway.', { argument: 'after' });
  return seq;
}

/** Refuses a cursor the session never issued, or one whose following events history no longer holds. */
export function checkCursor(page: Pick<HistoryPage, 'firstSeq' | 'lastSeq'>, after: number | undefined): void {
  if (after === undefined) return;
  if (after > page.lastSeq) throw gatewayError('INVALID_CURSOR', 'after is beyond the last event of this session.', { argument: 'after' });
  if (after < page.firstSeq - 1) {
    throw gatewayError('CURSOR_EXPIRED', `Events after seq ${after} are no longer retained; reload the session.`, {
      firstRetainedSeq: page.firstSeq,
    });
  }
}
