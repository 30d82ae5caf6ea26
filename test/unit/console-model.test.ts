import { describe, expect, it } from 'vitest';
import { applyPatch, SessionModel, type AgentEvent, type Span } from '../../console/src/model.js';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');

/** Events as the subscription delivers them, seq counting up unless an event says otherwise. */
function events() {
  let seq = 0;
  return (type: string, fields: Record<string, unknown> = {}, envelope: Partial<AgentEvent> = {}): AgentEvent => {
    if (!envelope.ephemeral && envelope.seq === undefined) seq += 1;
    const at = envelope.seq ?? seq;
    return {
      id: `c${at}`,
      seq: at,
      type,
      sessionId: 's1',
      requestId: 'r1',
      agent: 'planner',
      timestamp: new Date(T0 + at * 1_000).toISOString(),
      ephemeral: false,
      ...envelope,
      ...fields,
    };
  };
}

function spans(model: SessionModel): Span[] {
  return model.requests[0]!.entries.flatMap((entry) => (entry.kind === 'span' ? [entry.span] : []));
}

describe('the console model', () => {
  it('drops an event it already has, but never a live-only one, which repeats the seq before it', () => {
    const model = new SessionModel('s1');
    const event = events();
    const delta = (text: string) => event('TEXT_MESSAGE_DELTA', { messageId: 'm1', delta: text });
    const first = delta('Hel');
    expect(model.apply(first)).toBe(true);
    expect(model.apply({ ...event('TEXT_MESSAGE_DELTA', { messageId: 'm1', delta: 'lo' }, { seq: 1, ephemeral: true }) })).toBe(true);
    expect(model.apply(first)).toBe(false);
    expect(model.apply(delta('!'))).toBe(true);
    const text = model.requests[0]!.entries[0]!;
    expect(text.kind === 'text' && text.message.text).toBe('Hello!');
    expect([model.received, model.duplicates, model.gaps, model.lastSeq, model.lastId]).toEqual([3, 1, 0, 2, 'c2']);
  });

  it('pairs each finish with the latest start of the same thing, and timestamps give durations not reported', () => {
    const model = new SessionModel('s1');
    const event = events();
    for (const e of [
      event('STEP_STARTED', { name: 'outer' }),
      event('STEP_STARTED', { name: 'outer' }),
      event('STEP_FINISHED', { name: 'outer' }),
      event('TOOL_CALL_STARTED', { toolCallId: 't1', toolName: 'search' }),
      event('STEP_FINISHED', { name: 'outer', durationMs: 7_500 }),
      event('TOOL_CALL_FINISHED', { toolCallId: 't1', error: 'timed out' }),
    ]) {
      model.apply(e);
    }
    expect(spans(model).map(({ label, status, durationMs }) => [label, status, durationMs])).toEqual([
      ['outer', 'done', 7_500],
      ['outer', 'done', 1_000],
      ['search', 'failed', 2_000],
    ]);
  });

  it('shows a finish whose start is no longer retained on its own', () => {
    const model = new SessionModel('s1');
    model.apply(events()('MODEL_CALL_FINISHED', { model: 'm', durationMs: 300, inputTokens: 5, outputTokens: 7 }));
    expect(spans(model)).toMatchObject([{ kind: 'model', label: 'm', status: 'done', startedAt: undefined, durationMs: 300, inputTokens: 5 }]);
  });

  it('ends what still runs when the run ends, and stops waiting for the user', () => {
    const model = new SessionModel('s1');
    const event = events();
    for (const e of [
      event('RUN_STARTED'),
      event('TOOL_CALL_STARTED', { toolCallId: 't1', toolName: 'slow' }),
      event('HUMAN_INPUT_REQUESTED', { prompt: 'Dates?' }),
      event('RUN_FAILED', { message: 'gave up', code: 'TIMEOUT', retryable: false }),
    ]) {
      model.apply(e);
    }
    const request = model.requests[0]!;
    expect(spans(model).map((span) => span.status)).toEqual(['failed', 'unfinished']);
    expect([request.status, request.waitingFor, request.failure]).toEqual(['failed', undefined, { message: 'gave up', code: 'TIMEOUT', retryable: false }]);
  });

  it('keeps the shared state as the snapshot with each patch applied, and counts patches that do not apply', () => {
    const model = new SessionModel('s1');
    const event = events();
    model.apply(event('STATE_SNAPSHOT', { snapshot: { city: 'Lisbon', days: ['fri'] } }));
    model.apply(event('STATE_DELTA', { patch: [{ op: 'add', path: '/days/-', value: 'sat' }, { op: 'replace', path: '/city', value: 'Porto' }] }));
    model.apply(event('STATE_DELTA', { patch: [{ op: 'remove', path: '/missing' }] }));
    expect(model.requests[0]!.state).toEqual({ value: { city: 'Porto', days: ['fri', 'sat'] }, patches: 1, unapplied: 1 });
  });
});

describe('applyPatch', () => {
  it('applies RFC 6902 operations to a copy', () => {
    const document = { a: { b: 1 }, list: [1, 2, 3] };
    expect(
      applyPatch(document, [
        { op: 'move', from: '/a/b', path: '/c' },
        { op: 'copy', from: '/c', path: '/list/0' },
        { op: 'remove', path: '/list/3' },
        { op: 'test', path: '/c', value: 1 },
        { op: 'add', path: '/a~1b', value: true },
      ]),
    ).toEqual({ value: { a: {}, c: 1, list: [1, 1, 2], 'a/b': true } });
    expect(document).toEqual({ a: { b: 1 }, list: [1, 2, 3] });
  });

  it('refuses a patch with an operation that does not apply', () => {
    expect(applyPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toBeUndefined();
    expect(applyPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).toBeUndefined();
    expect(applyPatch({ a: 1 }, [{ op: 'jump', path: '/a' }])).toBeUndefined();
    expect(applyPatch({ a: 1 }, ['not an operation'])).toBeUndefined();
  });
});
