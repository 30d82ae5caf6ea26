/**
 * What the console shows, folded from a session's events: one view per request with its timeline of runs, agents,
 * steps, model and tool calls (Started/Finished paired), streamed messages, notices, progress, result and state.
 * Pure bookkeeping, no DOM: `SessionModel.apply` takes events in seq order and drops what it already has.
 */

/** An event as the console selects it: the envelope, plus its variant's fields. */
export interface AgentEvent {
  id: string;
  seq: number;
  type: string;
  sessionId: string;
  requestId: string | null;
  agent: string | null;
  timestamp: string;
  ephemeral: boolean;
  [field: string]: unknown;
}

export type SpanKind = 'run' | 'agent' | 'step' | 'model' | 'tool';
export type SpanStatus = 'running' | 'done' | 'failed' | 'unfinished';

/** Something with a start and an end: a run, an agent's turn, a step, a model or tool call. */
export interface Span {
  kind: SpanKind;
  label: string;
  agent: string | null;
  status: SpanStatus;
  /** Epoch ms; undefined when only the finish was seen (the start is no longer retained). */
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** As reported with the finish, else the time between the two events. */
  durationMs: number | undefined;
  detail: string | undefined;
  args: unknown;
  result: unknown;
  error: string | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cost: number | undefined;
}

export interface TextMessage {
  messageId: string;
  role: string | undefined;
  agent: string | null;
  text: string;
  done: boolean;
}

/** One line of a request's activity feed, in the order things began. `key` is the id of the event that made it. */
export type Entry = { key: string; at: number } & (
  | { kind: 'span'; span: Span }
  | { kind: 'text'; message: TextMessage }
  | { kind: 'transfer'; from: string; to: string }
  | { kind: 'budget'; spent: number; limit: number; unit: string | undefined; agent: string | null }
  | { kind: 'error'; message: string; code: string | undefined; retrying: boolean | undefined; agent: string | null }
  | { kind: 'human-input'; prompt: string; agent: string | null }
  | { kind: 'snapshot'; snapshot: unknown }
  | { kind: 'patch'; patch: unknown[] }
  | { kind: 'custom'; name: string; value: unknown; agent: string | null }
  | { kind: 'other'; type: string; fields: Record<string, unknown> }
);

export type RequestStatus = 'queued' | 'running' | 'finished' | 'failed';

export interface RequestView {
  /** The request id; '' for events of the session as a whole. */
  id: string;
  input: unknown;
  status: RequestStatus;
  firstAt: number;
  progress: { percent: number | undefined; message: string | undefined } | undefined;
  entries: Entry[];
  /** The latest question for the user, until the run ends. */
  waitingFor: string | undefined;
  result: { result: unknown; inputTokens?: number; outputTokens?: number; cost?: number; durationMs?: number } | undefined;
  failure: { message: string; code: string | undefined; retryable: boolean | undefined } | undefined;
  /** The shared state: the last snapshot with the patches after it applied. */
  state: { value: unknown; patches: number; unapplied: number } | undefined;
  /** Spans started and not yet finished, by what pairs a finish with its start. */
  open: Map<string, Span[]>;
  texts: Map<string, TextMessage>;
}

export interface LogLine {
  key: string;
  seq: number;
  type: string;
  requestId: string | null;
  agent: string | null;
  ephemeral: boolean;
  at: number;
  summary: string;
}

/** Raw log lines kept for display; the counts cover everything. */
const LOG_LINES = 500;

const text = (event: AgentEvent, name: string) => (typeof event[name] === 'string' ? (event[name] as string) : undefined);
const num = (event: AgentEvent, name: string) => (typeof event[name] === 'number' ? (event[name] as number) : undefined);
const bool = (event: AgentEvent, name: string) => (typeof event[name] === 'boolean' ? (event[name] as boolean) : undefined);

/** JSON on one line, cut at `max` characters. */
export function compact(value: unknown, max = 160): string {
  const json = value === undefined ? '' : JSON.stringify(value);
  return json.length > max ? `${json.slice(0, max - 1)}…` : json;
}

interface Pairing {
  kind: SpanKind;
  /** What pairs a Finished event with its Started one. */
  key: string;
  label: string;
}

/** How a Started or Finished event pairs up, and what kind of span the pair makes. */
function spanKey(event: AgentEvent): Pairing | undefined {
  const agent = event.agent ?? '';
  switch (event.type) {
    case 'RUN_STARTED':
    case 'RUN_FINISHED':
    case 'RUN_FAILED':
      return { kind: 'run', key: 'run', label: 'run' };
    case 'AGENT_STARTED':
    case 'AGENT_FINISHED':
      return { kind: 'agent', key: `agent:${agent}`, label: event.agent ?? 'agent' };
    case 'STEP_STARTED':
    case 'STEP_FINISHED':
      return { kind: 'step', key: `step:${agent}:${text(event, 'name')}`, label: text(event, 'name') ?? 'step' };
    case 'MODEL_CALL_STARTED':
    case 'MODEL_CALL_FINISHED':
      return { kind: 'model', key: `model:${agent}:${text(event, 'model')}`, label: text(event, 'model') ?? 'model' };
    case 'TOOL_CALL_STARTED':
    case 'TOOL_CALL_FINISHED':
      return { kind: 'tool', key: `tool:${text(event, 'toolCallId')}`, label: text(event, 'toolName') ?? 'tool' };
    default:
      return undefined;
  }
}

/** A one-line description of any event, for the raw log. */
export function summarize(event: AgentEvent): string {
  const f = (name: string) => event[name];
  switch (event.type) {
    case 'REQUEST_QUEUED':
      return compact(f('input'));
    case 'SESSION_ENDED':
      return String(f('reason') ?? '');
    case 'PROGRESS':
      return [num(event, 'percent') === undefined ? undefined : `${num(event, 'percent')}%`, text(event, 'message')].filter(Boolean).join(' ');
    case 'TOOL_CALL_STARTED':
      return `${f('toolName')} ${compact(f('args'), 80)}`;
    case 'TOOL_CALL_FINISHED':
      return `${f('toolName') ?? f('toolCallId')} ${text(event, 'error') ? `error: ${f('error')}` : compact(f('result'), 80)}`;
    case 'TEXT_MESSAGE_DELTA':
      return compact(f('delta'), 80);
    case 'BUDGET_WARNING':
      return `${f('spent')} of ${f('limit')} ${f('unit') ?? ''}`.trim();
    case 'AGENT_TRANSFERRED':
      return `${f('fromAgent')} → ${f('toAgent')}`;
    default: {
      const { id, seq, type, sessionId, requestId, agent, timestamp, ephemeral, ...fields } = event;
      const set = Object.entries(fields).filter(([, value]) => value !== null && value !== undefined);
      return set.map(([name, value]) => `${name}=${typeof value === 'string' ? value : compact(value, 60)}`).join(' ');
    }
  }
}

/** RFC 6902 on a copy of `document`; undefined when an operation does not apply. */
export function applyPatch(document: unknown, patch: unknown[]): { value: unknown } | undefined {
  let root: unknown = structuredClone(document);
  const parse = (pointer: unknown) =>
    typeof pointer === 'string' && (pointer === '' || pointer.startsWith('/'))
      ? pointer.split('/').slice(1).map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
      : undefined;
  const parentOf = (tokens: string[]) => {
    let node = root;
    for (const token of tokens.slice(0, -1)) {
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Record<string, unknown>)[token];
    }
    return node !== null && typeof node === 'object' ? (node as Record<string, unknown> | unknown[]) : undefined;
  };
  const read = (tokens: string[]) => {
    let node = root;
    for (const token of tokens) {
      if (node === null || typeof node !== 'object' || !(token in node)) return undefined;
      node = (node as Record<string, unknown>)[token];
    }
    return { value: node };
  };
  const remove = (tokens: string[]) => {
    const parent = parentOf(tokens);
    const last = tokens.at(-1)!;
    if (!parent || !(last in parent)) return false;
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return true;
  };
  const add = (tokens: string[], value: unknown) => {
    if (tokens.length === 0) return ((root = value), true);
    const parent = parentOf(tokens);
    const last = tokens.at(-1)!;
    if (!parent) return false;
    if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, value);
    else parent[last] = value;
    return true;
  };
  for (const operation of patch) {
    if (operation === null || typeof operation !== 'object') return undefined;
    const { op, path, from, value } = operation as Record<string, unknown>;
    const to = parse(path);
    if (!to) return undefined;
    const source = parse(from);
    let ok: boolean;
    switch (op) {
      case 'add':
        ok = add(to, structuredClone(value));
        break;
      case 'remove':
        ok = to.length > 0 && remove(to);
        break;
      case 'replace':
        ok = (to.length === 0 || read(to) !== undefined) && (to.length === 0 || remove(to)) && add(to, structuredClone(value));
        break;
      case 'move': {
        const moved = source && read(source);
        ok = Boolean(moved && remove(source!) && add(to, moved.value));
        break;
      }
      case 'copy': {
        const copied = source && read(source);
        ok = Boolean(copied && add(to, structuredClone(copied.value)));
        break;
      }
      case 'test':
        ok = JSON.stringify(read(to)?.value) === JSON.stringify(value);
        break;
      default:
        ok = false;
    }
    if (!ok) return undefined;
  }
  return { value: root };
}

function newSpan(kind: SpanKind, label: string, agent: string | null): Span {
  return {
    kind,
    label,
    agent,
    status: 'running',
    startedAt: undefined,
    finishedAt: undefined,
    durationMs: undefined,
    detail: undefined,
    args: undefined,
    result: undefined,
    error: undefined,
    inputTokens: undefined,
    outputTokens: undefined,
    cost: undefined,
  };
}

export class SessionModel {
  sessionStatus: 'active' | 'ended' = 'active';
  endReason: string | undefined;
  /** The last durable event: resuming continues right after it. */
  lastSeq = 0;
  lastId: string | undefined;
  received = 0;
  /** Events with a seq already seen: resuming should never deliver any. */
  duplicates = 0;
  /** Jumps in seq: the gateway guarantees none. */
  gaps = 0;
  /** The first durable event applied: above 1 when the history no longer held the start of the session. */
  firstSeq: number | undefined;
  readonly requests: RequestView[] = [];
  readonly log: LogLine[] = [];
  private readonly byId = new Map<string, RequestView>();

  /** `reloaded`: made again from what history still held, after events were missed (CURSOR_EXPIRED). */
  constructor(
    readonly sessionId: string,
    readonly reloaded = false,
  ) {}

  /** Folds one event in; false (and counted) if it was already applied. */
  apply(event: AgentEvent): boolean {
    // A live-only event repeats the seq of the event before it and is never replayed: never a duplicate.
    if (!event.ephemeral) {
      if (event.seq <= this.lastSeq) {
        this.duplicates += 1;
        return false;
      }
      if (this.lastSeq > 0 && event.seq > this.lastSeq + 1) this.gaps += 1;
      this.firstSeq ??= event.seq;
      this.lastSeq = event.seq;
      this.lastId = event.id;
    }
    this.received += 1;
    // Unique, unlike ids: a live-only event repeats the id of the event before it.
    const key = `e${this.received}`;
    const at = Date.parse(event.timestamp);
    this.log.push({
      key,
      seq: event.seq,
      type: event.type,
      requestId: event.requestId,
      agent: event.agent,
      ephemeral: event.ephemeral,
      at,
      summary: summarize(event),
    });
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);

    if (event.type === 'SESSION_STARTED') return true;
    if (event.type === 'SESSION_ENDED') {
      this.sessionStatus = 'ended';
      this.endReason = text(event, 'reason');
      return true;
    }
    this.applyToRequest(this.request(event.requestId ?? '', at), event, key, at);
    return true;
  }

  private request(id: string, at: number): RequestView {
    let request = this.byId.get(id);
    if (!request) {
      request = {
        id,
        input: undefined,
        status: 'queued',
        firstAt: at,
        progress: undefined,
        entries: [],
        waitingFor: undefined,
        result: undefined,
        failure: undefined,
        state: undefined,
        open: new Map(),
        texts: new Map(),
      };
      this.byId.set(id, request);
      this.requests.push(request);
    }
    return request;
  }

  private applyToRequest(request: RequestView, event: AgentEvent, key: string, at: number): void {
    const agent = event.agent;
    const pairing = spanKey(event);
    if (pairing && event.type.endsWith('_STARTED')) return this.start(request, event, pairing, key, at);
    if (pairing) return this.finish(request, event, pairing, key, at);
    switch (event.type) {
      case 'REQUEST_QUEUED':
        request.input = event['input'];
        return;
      case 'TEXT_MESSAGE_STARTED':
      case 'TEXT_MESSAGE_DELTA':
      case 'TEXT_MESSAGE_FINISHED': {
        const messageId = text(event, 'messageId') ?? '';
        let message = request.texts.get(messageId);
        if (!message) {
          message = { messageId, role: undefined, agent, text: '', done: false };
          request.texts.set(messageId, message);
          request.entries.push({ key, at, kind: 'text', message });
        }
        if (event.type === 'TEXT_MESSAGE_STARTED') message.role = text(event, 'role');
        if (event.type === 'TEXT_MESSAGE_DELTA') message.text += text(event, 'delta') ?? '';
        if (event.type === 'TEXT_MESSAGE_FINISHED') message.done = true;
        return;
      }
      case 'PROGRESS':
        request.progress = { percent: num(event, 'percent'), message: text(event, 'message') };
        return;
      case 'BUDGET_WARNING':
        request.entries.push({ key, at, kind: 'budget', spent: num(event, 'spent') ?? 0, limit: num(event, 'limit') ?? 0, unit: text(event, 'unit'), agent });
        return;
      case 'ERROR_REPORTED':
        request.entries.push({ key, at, kind: 'error', message: text(event, 'message') ?? '', code: text(event, 'code'), retrying: bool(event, 'retrying'), agent });
        return;
      case 'HUMAN_INPUT_REQUESTED':
        request.waitingFor = text(event, 'prompt') ?? '';
        request.entries.push({ key, at, kind: 'human-input', prompt: request.waitingFor, agent });
        return;
      case 'AGENT_TRANSFERRED':
        request.entries.push({ key, at, kind: 'transfer', from: text(event, 'fromAgent') ?? '', to: text(event, 'toAgent') ?? '' });
        return;
      case 'STATE_SNAPSHOT':
        request.state = { value: event['snapshot'], patches: 0, unapplied: 0 };
        request.entries.push({ key, at, kind: 'snapshot', snapshot: event['snapshot'] });
        return;
      case 'STATE_DELTA': {
        const patch = Array.isArray(event['patch']) ? (event['patch'] as unknown[]) : [];
        const state = request.state ?? { value: undefined, patches: 0, unapplied: 0 };
        const patched = state.value === undefined ? undefined : applyPatch(state.value, patch);
        request.state = patched ? { ...state, value: patched.value, patches: state.patches + 1 } : { ...state, unapplied: state.unapplied + 1 };
        request.entries.push({ key, at, kind: 'patch', patch });
        return;
      }
      case 'CUSTOM':
        request.entries.push({ key, at, kind: 'custom', name: text(event, 'name') ?? '', value: event['value'], agent });
        return;
      default: {
        const { id, seq, type, sessionId, requestId, timestamp, ephemeral, ...fields } = event;
        request.entries.push({ key, at, kind: 'other', type, fields });
      }
    }
  }

  private start(request: RequestView, event: AgentEvent, pairing: Pairing, key: string, at: number): void {
    const span = newSpan(pairing.kind, pairing.label, event.agent);
    span.startedAt = at;
    span.detail = text(event, 'message');
    span.args = event['args'];
    const open = request.open.get(pairing.key) ?? [];
    open.push(span);
    request.open.set(pairing.key, open);
    request.entries.push({ key, at, kind: 'span', span });
    if (pairing.kind === 'run') request.status = 'running';
  }

  private finish(request: RequestView, event: AgentEvent, pairing: Pairing, key: string, at: number): void {
    let span = request.open.get(pairing.key)?.pop();
    if (!span) {
      // Its start is not in what we have (trimmed from history): show the finish on its own.
      span = newSpan(pairing.kind, pairing.label, event.agent);
      request.entries.push({ key, at, kind: 'span', span });
    }
    span.finishedAt = at;
    span.durationMs = num(event, 'durationMs') ?? (span.startedAt === undefined ? undefined : at - span.startedAt);
    span.status = 'done';
    span.result = event['result'];
    span.inputTokens = num(event, 'inputTokens');
    span.outputTokens = num(event, 'outputTokens');
    span.cost = num(event, 'cost');
    if (pairing.kind === 'agent') span.detail = text(event, 'message') ?? span.detail;
    if (pairing.kind === 'tool') {
      span.label = text(event, 'toolName') ?? span.label;
      span.error = text(event, 'error');
      if (span.error !== undefined) span.status = 'failed';
    }
    if (event.type === 'RUN_FINISHED') {
      request.status = 'finished';
      request.result = {
        result: event['result'],
        ...definedNumbers(event, ['inputTokens', 'outputTokens', 'cost']),
        ...(span.durationMs === undefined ? {} : { durationMs: span.durationMs }),
      };
    }
    if (event.type === 'RUN_FAILED') {
      span.status = 'failed';
      span.error = text(event, 'message');
      request.status = 'failed';
      request.failure = { message: text(event, 'message') ?? '', code: text(event, 'code'), retryable: bool(event, 'retryable') };
    }
    if (pairing.kind === 'run') this.endRun(request);
  }

  /** The run is over: nothing in it is running any more, and nobody waits for the user. */
  private endRun(request: RequestView): void {
    for (const spans of request.open.values()) for (const span of spans) span.status = 'unfinished';
    request.open.clear();
    request.waitingFor = undefined;
  }
}

function definedNumbers(event: AgentEvent, names: string[]): Record<string, number> {
  return Object.fromEntries(names.flatMap((name) => (num(event, name) === undefined ? [] : [[name, num(event, name)!]])));
}
