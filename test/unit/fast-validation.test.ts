import { describe, expect, it } from 'vitest';
import { parseChannelMessage, type ChannelMessage } from '../../src/bus/channel-message.js';
import { checkParsedEvent, validateOwnedEvent } from '../../src/events/fast-validation.js';
import { agentEventSchema, anyEventSchema, INT_MAX, validateEvent } from '../../src/events/validation.js';
import { AGENT_VARIANTS, ENVELOPE_FIELDS, VARIANTS, type FieldDefinition, type VariantDefinition } from '../../src/events/variants.js';
import { boundaryValues, invalidValues, validValue } from '../support/field-values.js';

/**
 * The fast check may only ever vouch for an event zod accepts, returning the same event; and it must vouch for the
 * valid events agents actually send, or the gateway keeps paying for zod.
 */

const show = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Both verdicts on one value; `agentOnly` picks the schema as parseChannelMessage does. */
function verdicts(value: Record<string, unknown>, agentOnly: boolean) {
  return { fast: checkParsedEvent(value, agentOnly), zod: validateEvent(value, agentOnly ? agentEventSchema : anyEventSchema) };
}

/** Whatever the fast check returns, zod accepts, with a deep-equal event whose keys come in the same order. */
function expectNoLooserThanZod(value: Record<string, unknown>, agentOnly: boolean) {
  const { fast, zod } = verdicts(value, agentOnly);
  if (fast === undefined) return zod;
  expect(zod, `${show(value)} (agentOnly ${agentOnly}) passed the fast check only`).toEqual({ ok: true, event: fast });
  if (zod.ok) expect(Object.keys(fast)).toEqual(Object.keys(zod.event));
  expect(fast).not.toBe(value);
  return zod;
}

/** The two agree on the verdict, and on the event when they accept. */
function expectSameVerdict(value: Record<string, unknown>, agentOnly = true) {
  const zod = expectNoLooserThanZod(value, agentOnly);
  expect(checkParsedEvent(value, agentOnly) !== undefined, `${show(value)} (agentOnly ${agentOnly}): zod says ${show(zod)}`).toBe(zod.ok);
}

describe('checkParsedEvent on the cases of validation.test.ts', () => {
  // The same values as there (test/support/field-values.ts), so the fast check sees every value zod's tests do.
  const fieldsOf = (variant: VariantDefinition) => Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields });
  const fullExample = (variant: VariantDefinition): Record<string, unknown> => ({
    type: variant.type,
    ...Object.fromEntries(fieldsOf(variant).map(([name, field]) => [name, validValue(field.spec)])),
  });
  const minimalExample = (variant: VariantDefinition): Record<string, unknown> => ({
    type: variant.type,
    ...Object.fromEntries(fieldsOf(variant).filter(([, field]) => field.required).map(([name, field]) => [name, validValue(field.spec)])),
  });
  const AGENT_FIELDS = AGENT_VARIANTS.flatMap((variant) => fieldsOf(variant).map(([name, field]) => [name, field, variant] as const));

  it('full and minimal examples of every variant, from agents and in history', () => {
    for (const variant of VARIANTS) {
      for (const agentOnly of [true, false]) {
        expectSameVerdict(fullExample(variant), agentOnly);
        expectSameVerdict(minimalExample(variant), agentOnly);
      }
    }
  });

  it('boundary, invalid and null values of every field', () => {
    for (const [name, field, variant] of AGENT_FIELDS) {
      for (const value of [...boundaryValues(field.spec), ...invalidValues(field.spec), null]) {
        expectSameVerdict({ ...minimalExample(variant), [name]: value });
        expectSameVerdict({ ...fullExample(variant), [name]: value });
      }
      if (field.spec.kind === 'text') expectSameVerdict({ ...fullExample(variant), [name]: '' });
      const { [name]: _dropped, ...missing } = fullExample(variant);
      expectSameVerdict(missing);
    }
  });

  it('unknown fields, unknown types and gateway-made types from agents', () => {
    for (const variant of VARIANTS) {
      for (const agentOnly of [true, false]) {
        expectSameVerdict({ ...fullExample(variant), bogus: 1 }, agentOnly);
        expectSameVerdict({ ...minimalExample(variant), seq: 3 }, agentOnly);
        expectSameVerdict({ ...minimalExample(variant), sessionId: 's1' }, agentOnly);
        expectSameVerdict({ type: variant.type }, agentOnly);
      }
    }
    for (const value of [{}, { type: 'NOPE' }, { type: 'progress' }, { type: 7 }, { percent: 10 }, { type: null, percent: 3 }]) {
      expectSameVerdict(value, true);
      expectSameVerdict(value, false);
    }
  });

  it('the examples the design calls out', () => {
    for (const value of [
      { type: 'PROGRESS', percent: 101 },
      { type: 'PROGRESS', percent: -1 },
      { type: 'MODEL_CALL_FINISHED', model: 'm', inputTokens: 1.5 },
      { type: 'MODEL_CALL_FINISHED', model: 'm', outputTokens: -3 },
      { type: 'BUDGET_WARNING', spent: -1, limit: 10 },
      { type: 'TOOL_CALL_STARTED', toolCallId: 'x:y', toolName: 't' },
      { type: 'TEXT_MESSAGE_DELTA', messageId: 'channel:*', delta: 'x' },
      { type: 'PROGRESS', requestId: 'r*' },
      { type: 'TEXT_MESSAGE_DELTA', messageId: 'm', delta: 'x'.repeat(32_769) },
      { type: 'STEP_STARTED', name: 'x'.repeat(201) },
      { type: 'PROGRESS', agent: 'x'.repeat(201) },
      { type: 'STATE_DELTA', patch: [] },
    ]) {
      expectSameVerdict(value);
    }
  });

  it('values JSON.parse never makes, nested in JSON fields: never accepted where zod refuses', () => {
    class Point {
      x = 1;
    }
    const sparse: unknown[] = [];
    sparse[2] = 1;
    for (const value of [
      [Number.NaN],
      { a: Number.POSITIVE_INFINITY },
      { a: undefined },
      [undefined],
      sparse,
      [new Date(0)],
      { a: new Point() },
      { a: [() => 1] },
      { a: Symbol('s') },
      Object.create(null) as object,
      // Not `{ [Symbol()]: 1 }`, which zod refuses: the fast check does not pay to look for symbol keys.
    ]) {
      expectNoLooserThanZod({ type: 'CUSTOM', name: 'n', value }, true);
      expectNoLooserThanZod({ type: 'STATE_DELTA', patch: [value] }, true);
    }
  });
});

/** Reads a channel message as parseChannelMessage did before the fast check: zod on a copy without `$` fields. */
function readWithZodOnly(sessionId: string, text: string): ChannelMessage {
  const { $seq: seq, $ts: ts, $gw: gateway, ...raw } = JSON.parse(text) as Record<string, unknown>;
  const durable = seq !== undefined;
  if (durable && !(Number.isSafeInteger(seq) && (seq as number) > 0 && Number.isFinite(ts))) return { ok: false, reason: 'bad seq or ts' };
  if (!durable && gateway !== undefined) return { ok: false, reason: '$gw: unknown field' };
  const validation = validateEvent(raw, durable ? anyEventSchema : agentEventSchema);
  if (!validation.ok) return validation;
  const event = { sessionId, seq: durable ? (seq as number) : 0, timestamp: durable ? (ts as number) : 0, ephemeral: !durable, event: validation.event };
  return { ok: true, byGateway: durable && gateway === true, event };
}

/** parseChannelMessage and the zod-only reading agree, to the reason and the key order of the event. */
function expectSameReading(text: string) {
  const reading = parseChannelMessage('s1', text, 65_536);
  // A live-only event is stamped with the current time, which the two readings cannot share.
  if (reading.ok && reading.event.ephemeral) reading.event.timestamp = 0;
  const reference = readWithZodOnly('s1', text);
  expect(reading, text).toEqual(reference);
  if (reading.ok && reference.ok) expect(Object.keys(reading.event.event)).toEqual(Object.keys(reference.event.event));
  return reading;
}

describe('parseChannelMessage with the fast check', () => {
  it('reads the cases of channel-message.test.ts as zod alone did', () => {
    for (const message of [
      { type: 'PROGRESS', percent: 5, $seq: 3, $ts: 1000, $gw: true },
      { type: 'PROGRESS', percent: 5, $seq: 3, $ts: 1000 },
      { type: 'SESSION_ENDED', reason: 'ENDED', $seq: 4, $ts: 1000, $gw: true },
      { type: 'PROGRESS', percent: 5 },
      { type: 'PROGRESS', percent: 5, $gw: true },
    ]) {
      expectSameReading(JSON.stringify(message));
    }
  });

  it('keeps every envelope field out of the event, and refuses other `$` fields as zod did', () => {
    expect(expectSameReading('{"$ts":5,"type":"PROGRESS","percent":5}')).toMatchObject({ ok: true, event: { event: { type: 'PROGRESS', percent: 5 } } });
    expect(expectSameReading('{"type":"PROGRESS","$seq":2,"$ts":5,"$gw":{"deep":[[[]]]}}')).toMatchObject({ ok: true, byGateway: false });
    expect(expectSameReading('{"type":"PROGRESS","$seq":2,"$ts":5,"$gw":null}')).toMatchObject({ ok: true });
    expect(expectSameReading('{"type":"PROGRESS","$seq":2,"$ts":5,"$other":1}')).toMatchObject({ ok: false });
    expect(expectSameReading('{"type":"SESSION_STARTED","$ts":5}')).toMatchObject({ ok: false });
  });
});

/** mulberry32: small, seeded, and good enough to spread test inputs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('checkParsedEvent on generated events', () => {
  const random = seededRandom(20_261_122);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => random() < p;

  const ID_CHARS = 'ABCXYZabcxyz0189-_';
  const TEXT_CHARS = ['a', 'Z', ' ', '"', '\\', '\n', 'é', '€', '😀', '\u0000', '<'];
  /** Key stands in for `__proto__`, which an object literal cannot create as an own key but JSON.parse does. */
  const PROTO = '@@proto@@';

  const idOf = (length: number) => Array.from({ length }, () => pick([...ID_CHARS])).join('');
  /** Text of at most `max` UTF-16 units. */
  function textOf(min: number, max: number): string {
    let text = '';
    const length = min + int(Math.min(max - min, 40) + 1);
    while (text.length < length) {
      const next = pick(TEXT_CHARS);
      if (text.length + next.length <= max) text += next;
      else text += 'x';
    }
    return text;
  }
  function jsonOf(depth: number): unknown {
    switch (int(depth > 3 ? 4 : 6)) {
      case 0:
        return textOf(0, 20);
      case 1:
        return pick([0, 1, -1, 0.5, -2.25e-8, 1e21, Number.MAX_SAFE_INTEGER, 3]);
      case 2:
        return pick([true, false, null]);
      case 3:
        return pick(['', 'constructor', 'toString', '0']);
      case 4:
        return Array.from({ length: int(4) }, () => jsonOf(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['a', 'b', 'constructor', 'hasOwnProperty', '0', '', 'x y']), jsonOf(depth + 1)]));
    }
  }
  /** Arrays nested so that the innermost sits at `level`, the event being level 1 and the field's value level 2. */
  const nestedTo = (level: number): unknown => (level <= 2 ? [1] : [nestedTo(level - 1)]);

  function validOf({ spec, required }: FieldDefinition): unknown {
    switch (spec.kind) {
      case 'id':
        return idOf(chance(0.2) ? 128 : 1 + int(40));
      case 'text':
        return chance(0.1) ? 'x'.repeat(spec.max) : textOf(required ? 1 : 0, spec.max);
      case 'int':
        return pick([0, 1, 42, INT_MAX, int(INT_MAX)]);
      case 'number':
        return pick([0, 12.5, 1e12, random() * 1000, Number.MAX_VALUE]);
      case 'percent':
        return pick([0, 100, 37.5, random() * 100]);
      case 'boolean':
        return chance(0.5);
      case 'json': {
        const value = chance(0.1) ? nestedTo(32) : jsonOf(0);
        // A null field is an absent one, which a required field cannot be.
        return value === null && required ? 'present' : value;
      }
      case 'jsonArray':
        return [jsonOf(1), ...Array.from({ length: int(3) }, () => jsonOf(1))];
    }
  }

  /** Values that may or may not suit a field, aimed at the edges of each kind. */
  function edgeValuesOf({ spec, required }: FieldDefinition): { value: unknown; zodOnly?: boolean }[] {
    const wrongTypes = ['3', 3, -3, 1.5, true, [], [1], {}, { a: 1 }].map((value) => ({ value }));
    switch (spec.kind) {
      case 'id':
        return [...wrongTypes, ...['', 'a:b', 'a*', 'a b', 'é', 'x'.repeat(128), 'x'.repeat(129), 'a\n', '-_-'].map((value) => ({ value }))];
      case 'text': {
        const edges: { value: unknown; zodOnly?: boolean }[] = ['', 'x', 'x'.repeat(spec.max), 'x'.repeat(spec.max + 1)].map((value) => ({ value }));
        // zod counts code points, so this fits in zod's eyes but not in UTF-16 units: the fast check leaves it to zod.
        edges.push({ value: `${'x'.repeat(spec.max - 1)}😀`, zodOnly: true });
        edges.push({ value: '😀'.repeat(spec.max), zodOnly: true });
        edges.push({ value: '😀'.repeat(spec.max + 1) });
        return [...wrongTypes, ...edges, { value: required ? 'y' : '' }];
      }
      case 'int':
        return [...wrongTypes, ...[0, INT_MAX, INT_MAX + 1, -1, 1.5, 1e21, 2 ** 53, -0.5].map((value) => ({ value }))];
      case 'number':
        return [...wrongTypes, ...[0, -0.01, -1, 1e308, Number.MIN_VALUE, -Number.MIN_VALUE].map((value) => ({ value }))];
      case 'percent':
        return [...wrongTypes, ...[0, 100, 100.5, 100.0000001, -0.5, 99.99].map((value) => ({ value }))];
      case 'boolean':
        return [...wrongTypes, ...[true, false, 'true', 0, 1].map((value) => ({ value }))];
      case 'json':
      case 'jsonArray': {
        const edges = [[], {}, [[]], 'x', 0, nestedTo(31), nestedTo(32), nestedTo(33), [nestedTo(31)], [{ a: nestedTo(31) }]].map((value) => ({ value }));
        // zod's record drops a `__proto__` key, so its event differs from the input: the fast check leaves it to zod.
        return [...wrongTypes, ...edges, { value: [{ [PROTO]: 1, a: 2 }], zodOnly: true }, { value: { b: { [PROTO]: {} } }, zodOnly: true }];
      }
    }
  }

  interface Generated {
    event: Record<string, unknown>;
    /** A valid event the fast check may leave to zod. */
    zodOnly: boolean;
  }

  const shuffled = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };

  /** A random valid event of the variant, keys in random order, some optional fields null or absent. */
  function validEvent(variant: VariantDefinition): Record<string, unknown> {
    const entries: [string, unknown][] = [['type', variant.type]];
    for (const [name, field] of Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields })) {
      if (field.required || chance(0.6)) entries.push([name, chance(0.1) && !field.required ? null : validOf(field)]);
    }
    if (chance(0.1)) entries.push(['unknownButNull', null]);
    return Object.fromEntries(chance(0.5) ? entries : shuffled(entries));
  }

  /** The event with one thing changed, which may or may not keep it valid. */
  function mutated(variant: VariantDefinition): Generated {
    const event = validEvent(variant);
    const fields = Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields });
    const [name, field] = pick(fields);
    switch (int(9)) {
      case 0:
        delete event[name];
        return { event, zodOnly: false };
      case 1:
        return { event: { ...event, [name]: null }, zodOnly: false };
      case 2:
        return { event: { ...event, [pick(['bogus', 'seq', 'sessionId', 'Type', PROTO, '$seq'])]: pick([1, 'x', null, {}]) }, zodOnly: false };
      case 3:
        return { event: { ...event, type: pick(['NOPE', variant.type.toLowerCase(), 7, null, '', `${variant.type} `]) }, zodOnly: false };
      case 4:
        delete event.type;
        return { event, zodOnly: false };
      default: {
        const { value, zodOnly = false } = pick(edgeValuesOf(field));
        return { event: { ...event, [name]: value }, zodOnly };
      }
    }
  }

  /** As the gateway receives it: through JSON, with the `__proto__` keys only JSON.parse can make. */
  const throughJson = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(`"${PROTO}"`, '"__proto__"')) as Record<string, unknown>;

  const generated = VARIANTS.flatMap((variant) => [
    ...Array.from({ length: 150 }, () => ({ valid: true, event: validEvent(variant), zodOnly: false })),
    ...Array.from({ length: 250 }, () => ({ valid: false, ...mutated(variant) })),
  ]);

  it('returns an event only when zod accepts it and returns the same, and leaves to zod only what it must', () => {
    const tally = { fast: 0, zodOnly: 0, rejected: 0 };
    for (const { event, zodOnly } of generated) {
      const parsed = throughJson(event);
      for (const agentOnly of [true, false]) {
        const zod = expectNoLooserThanZod(parsed, agentOnly);
        const fast = checkParsedEvent(parsed, agentOnly) !== undefined;
        if (!zodOnly) expect(fast, `${show(parsed)} (agentOnly ${agentOnly}): zod says ${show(zod)}`).toBe(zod.ok);
        tally[fast ? 'fast' : zod.ok ? 'zodOnly' : 'rejected']++;
      }
    }
    // Not vacuous: plenty of each outcome.
    expect(tally.fast).toBeGreaterThan(5_000);
    expect(tally.rejected).toBeGreaterThan(5_000);
    expect(tally.zodOnly).toBeGreaterThan(10);
  });

  it('accepts every generated valid event zod accepts (the common path stays fast)', () => {
    for (const { event } of generated.filter((item) => item.valid)) {
      const parsed = throughJson(event);
      const agentOnly = AGENT_VARIANTS.some((variant) => variant.type === event.type);
      expect(verdicts(parsed, agentOnly).zod, show(parsed)).toMatchObject({ ok: true });
      expect(checkParsedEvent(parsed, agentOnly), show(parsed)).toBeDefined();
    }
  });

  it('validateOwnedEvent answers as validateEvent does, reason included, for events and for values that are none', () => {
    const values: unknown[] = [...generated.map(({ event }) => throughJson(event)), null, 'PROGRESS', 7, [], [{ type: 'PROGRESS' }]];
    for (const value of values) {
      for (const agentOnly of [true, false]) {
        expect(validateOwnedEvent(value, agentOnly), show(value)).toEqual(validateEvent(value, agentOnly ? agentEventSchema : anyEventSchema));
      }
    }
  });

  it('parseChannelMessage reads durable and live-only messages as zod alone did', () => {
    for (const { event } of generated.filter((_, i) => i % 3 === 0)) {
      const json = JSON.stringify(event).replaceAll(`"${PROTO}"`, '"__proto__"');
      expectSameReading(json);
      const envelope = pick(['"$seq":7,"$ts":1700000000000', '"$seq":7,"$ts":1700000000000,"$gw":true', '"$ts":1', '"$seq":0,"$ts":1']);
      expectSameReading(json === '{}' ? `{${envelope}}` : `{${envelope},${json.slice(1)}`);
    }
  });
});
