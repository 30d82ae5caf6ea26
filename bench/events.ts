/**
 * The benchmark's events: what drivers publish (about 300 bytes of raw JSON, three variants in turn) and what a
 * subscriber reads back from each frame. Every event carries a marker `[b<step> <sent time>]` in a text field
 * every selection set asks for, so a subscriber can tell which step an event belongs to and how long it took,
 * without parsing the frame.
 */

/** One event as the drivers build it; serialised for FCALL (raw JSON) or as GraphQL input. */
export interface BenchEvent {
  type: 'PROGRESS' | 'TOOL_CALL_STARTED' | 'TEXT_MESSAGE_DELTA';
  /** Its field in `AgentEventInput` (`progress`, …). */
  inputField: 'progress' | 'toolCallStarted' | 'textMessageDelta';
  requestId: string;
  agent: string;
  fields: Record<string, unknown>;
}

const AGENTS = ['planner', 'researcher', 'booker', 'critic'];
const TOOLS = ['web_search', 'flight_search', 'hotel_lookup', 'calendar'];

/** Wall-clock milliseconds with microsecond precision, comparable across the processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function marker(step: number, sentAtMs: number): string {
  return `[b${step} ${sentAtMs.toFixed(3)}]`;
}

/**
 * The `n`th event of a step. Text lengths are chosen so the raw JSON is about 300 bytes (see
 * `rawEventJson`), like a typical progress line or text delta of an agent run.
 */
export function benchEvent(n: number, step: number, sentAtMs: number): BenchEvent {
  const requestId = `req-${(n >>> 4) % 10_000}`;
  const agent = AGENTS[n % AGENTS.length]!;
  const mark = marker(step, sentAtMs);
  switch (n % 3) {
    case 0:
      return {
        type: 'PROGRESS',
        inputField: 'progress',
        requestId,
        agent,
        fields: { percent: n % 101, message: `Comparing fares and layovers for the Lisbon leg, source ${n % 40} of 40, ${mark} cheapest so far 412 EUR with one stop in Madrid, checking baggage rules, seat maps and the refund policy of each fare next` },
      };
    case 1:
      return {
        type: 'TOOL_CALL_STARTED',
        inputField: 'toolCallStarted',
        requestId,
        agent,
        fields: {
          toolCallId: `call-${n}`,
          toolName: TOOLS[n % TOOLS.length],
          args: { query: 'direct flights LIS to BER on the 14th, morning departures', maxResults: 10, note: mark, currency: 'EUR', passengers: 2, cabin: 'economy' },
        },
      };
    default:
      return {
        type: 'TEXT_MESSAGE_DELTA',
        inputField: 'textMessageDelta',
        requestId,
        agent,
        fields: { messageId: `msg-${n >>> 6}`, delta: `The second option leaves at 09:40 and lands at 13:55 local time, ${mark} which keeps the afternoon free for the museum visit you asked about, and the fare includes one checked bag of 23 kg.` },
      };
  }
}

/** The raw format for `FCALL apg_publish`: the variant's fields flat beside `type`. */
export function rawEventJson(event: BenchEvent): string {
  return JSON.stringify({ type: event.type, requestId: event.requestId, agent: event.agent, ...event.fields });
}

/** `AgentEventInput` (`{ progress: { … } }`) for the mutations. */
export function eventInput(event: BenchEvent): Record<string, unknown> {
  return { [event.inputField]: event.fields };
}

/** What a subscriber reads from one frame; `seq` is NaN for frames that are not events (acks, errors). */
export interface ReadFrame {
  seq: number;
  /** The step the event was published in; -1 when it carries no marker (e.g. SESSION_STARTED). */
  step: number;
  sentAtMs: number;
}

/**
 * Reads seq and marker straight from the text: `"seq":` in the gateway's GraphQL result, `"$seq":` in the channel
 * message the raw relay forwards. indexOf is a fraction of the cost of JSON.parse, which would make the load
 * generator, not the server, the bottleneck.
 */
export function readFrame(text: string): ReadFrame {
  const seqAt = text.indexOf('seq":');
  if (seqAt < 0) return { seq: Number.NaN, step: -1, sentAtMs: Number.NaN };
  const seq = parseInt(text.slice(seqAt + 5, seqAt + 20), 10);
  const markAt = text.indexOf('[b');
  if (markAt < 0) return { seq, step: -1, sentAtMs: Number.NaN };
  const space = text.indexOf(' ', markAt);
  return { seq, step: parseInt(text.slice(markAt + 2, space), 10), sentAtMs: parseFloat(text.slice(space + 1, space + 24)) };
}
