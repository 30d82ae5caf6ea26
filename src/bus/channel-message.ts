import { checkParsedEvent } from '../events/fast-validation.js';
import type { RawEvent, SessionEvent } from '../events/types.js';
import { agentEventSchema, anyEventSchema, validateEvent } from '../events/validation.js';

/** Room for the `$seq`, `$ts` (and `$gw`) fields the durable path adds to an event. */
const ENVELOPE_BYTES = 64;
/** The fields the Redis functions add beside an event's own; never part of the event. */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['$seq', '$ts', '$gw']);

export type ChannelMessage =
  /** `byGateway`: a durable message a gateway logged itself (marked `$gw` by its Redis functions), not an agent's FCALL. */
  | { ok: true; event: SessionEvent; byGateway: boolean }
  | { ok: false; reason: string };

/**
 * Reads one message from a session channel. Durable messages (published by the Redis functions) carry `$seq` and
 * `$ts`, and `$gw` when a gateway logged them; anything else is a live-only event from a plain PUBLISH and may only
 * be an agent variant. Never throws: whatever arrives on a channel is untrusted.
 */
export function parseChannelMessage(sessionId: string, text: string, maxEventBytes: number): ChannelMessage {
  // String length never exceeds byte length: the first test rejects a huge message without counting its bytes.
  const limit = maxEventBytes + ENVELOPE_BYTES;
  if (text.length > limit || Buffer.byteLength(text) > limit) return { ok: false, reason: 'too large' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not an object' };

  const message = value as Record<string, unknown>;
  const seq = message.$seq;
  const ts = message.$ts;
  const gateway = message.$gw;
  const durable = seq !== undefined;
  if (durable && !(Number.isSafeInteger(seq) && (seq as number) > 0 && Number.isFinite(ts))) {
    return { ok: false, reason: 'bad seq or ts' };
  }
  // Only the functions' own messages carry `$gw`: on a live-only message it is an unknown field like any other.
  if (!durable && gateway !== undefined) return { ok: false, reason: '$gw: unknown field' };
  // The fast check reads past the envelope fields instead of copying the rest; zod decides whatever it does not.
  let event: RawEvent | undefined = checkParsedEvent(message, !durable, ENVELOPE_KEYS);
  if (event === undefined) {
    const { $seq: _seq, $ts: _ts, $gw: _gateway, ...raw } = message;
    const validation = validateEvent(raw, durable ? anyEventSchema : agentEventSchema);
    if (!validation.ok) return { ok: false, reason: validation.reason };
    event = validation.event;
  }
  return {
    ok: true,
    byGateway: durable && gateway === true,
    event: {
      sessionId,
      seq: durable ? (seq as number) : 0,
      timestamp: durable ? (ts as number) : Date.now(),
      ephemeral: !durable,
      event,
    },
  };
}
