/** An event as agents write it: the raw Redis format, variant fields flat beside `type`. */
export interface RawEvent {
  type: string;
  requestId?: string;
  agent?: string;
  [field: string]: unknown;
}

/** An event as the log stores and delivers it. */
export interface SessionEvent {
  sessionId: string;
  /** Position in the session's history: 1, 2, 3 … with no gaps. A live-only event repeats the seq before it. */
  seq: number;
  /** Milliseconds since the epoch, stamped by the gateway (or Redis) when the event was logged. */
  timestamp: number;
  /** True for a live-only event (plain PUBLISH): delivered once, never replayed. */
  ephemeral: boolean;
  event: RawEvent;
}

/** Which session (and whose) an operation is about; the pair names the Redis channel and stream. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

/** The opaque cursor of an event: its seq, in decimal. Clients must treat it as opaque. */
export function cursorOf(seq: number): string {
  return String(seq);
}

/** The seq a cursor names, or undefined when the string is no cursor of ours. */
export function seqOfCursor(cursor: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(cursor)) return undefined;
  return Number(cursor);
}
