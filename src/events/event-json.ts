import { cursorOf, type SessionEvent } from './types.js';
import { VARIANT_BY_TYPE } from './variants.js';

/**
 * An event as JSON with the fields the GraphQL `AgentEvent` exposes (src/schema/events.ts): the interface's, then
 * the variant's own, absent ones as null. For transports that send events without a selection set (SSE updates).
 */
export function eventJson(event: SessionEvent): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: cursorOf(event.seq),
    seq: event.seq,
    type: event.event.type,
    sessionId: event.sessionId,
    requestId: event.event.requestId ?? null,
    agent: event.event.agent ?? null,
    timestamp: new Date(event.timestamp).toISOString(),
    ephemeral: event.ephemeral,
  };
  for (const name of Object.keys(VARIANT_BY_TYPE.get(event.event.type)?.fields ?? {})) json[name] = event.event[name] ?? null;
  return json;
}
