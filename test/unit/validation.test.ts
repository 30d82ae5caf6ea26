import { getNamedType, getNullableType, isInputObjectType, isNonNullType, isObjectType, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { agentEventSchema, anyEventSchema, validateEvent } from '../../src/events/validation.js';
import { AGENT_VARIANTS, ENVELOPE_FIELDS, VARIANTS, type FieldDefinition, type VariantDefinition } from '../../src/events/variants.js';
import { schema } from '../../src/schema/index.js';
import { boundaryValues, invalidValues, validValue } from '../support/field-values.js';

const withType = (variant: VariantDefinition, fields: Record<string, unknown>) => ({ type: variant.type, ...fields });

/** Every field of the variant (and the envelope) set. */
function fullExample(variant: VariantDefinition): Record<string, unknown> {
  const fields = Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields }).map(([name, field]) => [name, validValue(field.spec)]);
  return withType(variant, Object.fromEntries(fields));
}

/** Only the required fields. */
function minimalExample(variant: VariantDefinition): Record<string, unknown> {
  const fields = Object.entries(variant.fields)
    .filter(([, field]) => field.required)
    .map(([name, field]) => [name, validValue(field.spec)]);
  return withType(variant, Object.fromEntries(fields));
}

const GATEWAY_VARIANTS = VARIANTS.filter((variant) => variant.inputField === undefined);

/** [variant type, field name, field, variant] for every field of every agent variant, envelope included. */
const AGENT_FIELDS = AGENT_VARIANTS.flatMap((variant) =>
  Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields }).map(([name, field]) => [variant.type, name, field, variant] as const),
);
const REQUIRED_FIELDS = AGENT_FIELDS.filter(([, , field]) => field.required);
const OPTIONAL_FIELDS = AGENT_FIELDS.filter(([, , field]) => !field.required);

function expectRejected(value: unknown, mentioning?: string) {
  const result = validateEvent(value);
  expect(result.ok, `expected ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} to be rejected`).toBe(false);
  if (!result.ok && mentioning) expect(result.reason).toContain(mentioning);
}

describe('the variant table', () => {
  it('has the gateway-made variants and every agent variant the design names', () => {
    expect(GATEWAY_VARIANTS.map((v) => v.type)).toEqual(['SESSION_STARTED', 'REQUEST_QUEUED', 'SESSION_ENDED']);
    expect(AGENT_VARIANTS.map((v) => v.type)).toEqual(
      expect.arrayContaining([
        'RUN_STARTED',
        'RUN_FINISHED',
        'RUN_FAILED',
        'STEP_STARTED',
        'STEP_FINISHED',
        'AGENT_STARTED',
        'AGENT_FINISHED',
        'AGENT_TRANSFERRED',
        'MODEL_CALL_STARTED',
        'MODEL_CALL_FINISHED',
        'TOOL_CALL_STARTED',
        'TOOL_CALL_FINISHED',
        'TEXT_MESSAGE_STARTED',
        'TEXT_MESSAGE_DELTA',
        'TEXT_MESSAGE_FINISHED',
        'PROGRESS',
        'BUDGET_WARNING',
        'ERROR_REPORTED',
        'STATE_SNAPSHOT',
        'STATE_DELTA',
        'HUMAN_INPUT_REQUESTED',
        'CUSTOM',
      ]),
    );
    expect(new Set(VARIANTS.map((v) => v.type)).size).toBe(VARIANTS.length);
    expect(new Set(AGENT_VARIANTS.map((v) => v.inputField)).size).toBe(AGENT_VARIANTS.length);
  });
});

describe('validateEvent accepts', () => {
  it.each(AGENT_VARIANTS.map((v) => [v.type, v] as const))('%s with every field set, returning it unchanged', (_type, variant) => {
    const event = fullExample(variant);
    expect(validateEvent(event)).toEqual({ ok: true, event });
    expect(validateEvent(event, anyEventSchema)).toEqual({ ok: true, event });
  });

  it.each(AGENT_VARIANTS.map((v) => [v.type, v] as const))('%s with only its required fields', (_type, variant) => {
    const event = minimalExample(variant);
    expect(validateEvent(event)).toEqual({ ok: true, event });
  });

  it.each(AGENT_FIELDS.map(([type, name, field, variant]) => [`${type}.${name}`, name, field, variant] as const))(
    'boundary values of %s',
    (_label, name, field: FieldDefinition, variant) => {
      for (const value of boundaryValues(field.spec)) {
        const event = { ...minimalExample(variant), [name]: value };
        expect(validateEvent(event), `${name} = ${JSON.stringify(value)}`).toEqual({ ok: true, event });
      }
    },
  );

  it('gateway-made variants in history (anyEventSchema), never from agents', () => {
    for (const variant of GATEWAY_VARIANTS) {
      const event = fullExample(variant);
      expect(validateEvent(event, anyEventSchema)).toEqual({ ok: true, event });
    }
  });
});

describe('validateEvent rejects', () => {
  it.each(GATEWAY_VARIANTS.map((v) => [v.type, v] as const))('the gateway-made type %s from agents', (type, variant) => {
    expectRejected({ type }, 'type');
    expectRejected(fullExample(variant), 'type');
    expect(validateEvent({ type }, agentEventSchema).ok).toBe(false);
  });

  it('anything that is not an object, or has no known type', () => {
    for (const value of [null, undefined, 'PROGRESS', 42, true, [], [{ type: 'PROGRESS' }]]) {
      expect(validateEvent(value)).toEqual({ ok: false, reason: 'an event must be a JSON object' });
    }
    expectRejected({}, 'type');
    expectRejected({ type: 'NOPE' }, 'type');
    expectRejected({ type: 'progress' }, 'type');
    expectRejected({ type: 7 }, 'type');
    expectRejected({ percent: 10 }, 'type');
  });

  it.each(AGENT_VARIANTS.map((v) => [v.type, v] as const))('%s with an unknown field', (_type, variant) => {
    expectRejected({ ...fullExample(variant), bogus: 1 }, 'bogus');
    // Fields of the raw envelope the gateway adds must not be smuggled in either.
    expectRejected({ ...minimalExample(variant), seq: 3 }, 'seq');
    expectRejected({ ...minimalExample(variant), sessionId: 's1' }, 'sessionId');
  });

  it.each(REQUIRED_FIELDS.map(([type, name, , variant]) => [`${type}.${name}`, name, variant] as const))(
    '%s when missing or null',
    (_label, name, variant) => {
      const { [name]: _dropped, ...missing } = fullExample(variant);
      expectRejected(missing, name);
      expectRejected({ ...fullExample(variant), [name]: null }, name);
    },
  );

  it.each(REQUIRED_FIELDS.filter(([, , field]) => field.spec.kind === 'text').map(([type, name, , variant]) => [`${type}.${name}`, name, variant] as const))(
    '%s when the required text is empty',
    (_label, name, variant) => {
      expectRejected({ ...fullExample(variant), [name]: '' }, name);
    },
  );

  it.each(AGENT_FIELDS.map(([type, name, field, variant]) => [`${type}.${name} (${field.spec.kind})`, name, field, variant] as const))(
    'out-of-range, wrongly typed, unsafe or over-long values of %s',
    (_label, name, field: FieldDefinition, variant) => {
      for (const value of invalidValues(field.spec)) expectRejected({ ...fullExample(variant), [name]: value }, name);
    },
  );

  it('the examples the design calls out', () => {
    expectRejected({ type: 'PROGRESS', percent: 101 }, 'percent');
    expectRejected({ type: 'PROGRESS', percent: -1 }, 'percent');
    expectRejected({ type: 'MODEL_CALL_FINISHED', model: 'm', inputTokens: 1.5 }, 'inputTokens');
    expectRejected({ type: 'MODEL_CALL_FINISHED', model: 'm', outputTokens: -3 }, 'outputTokens');
    expectRejected({ type: 'BUDGET_WARNING', spent: -1, limit: 10 }, 'spent');
    expectRejected({ type: 'TOOL_CALL_STARTED', toolCallId: 'x:y', toolName: 't' }, 'toolCallId');
    expectRejected({ type: 'TEXT_MESSAGE_DELTA', messageId: 'channel:*', delta: 'x' }, 'messageId');
    expectRejected({ type: 'PROGRESS', requestId: 'r*' }, 'requestId');
    expectRejected({ type: 'TEXT_MESSAGE_DELTA', messageId: 'm', delta: 'x'.repeat(32_769) }, 'delta');
    expectRejected({ type: 'STEP_STARTED', name: 'x'.repeat(201) }, 'name');
    expectRejected({ type: 'PROGRESS', agent: 'x'.repeat(201) }, 'agent');
    // Redis cannot tell `[]` from `{}`, so an empty patch is refused on both stores alike.
    expectRejected({ type: 'STATE_DELTA', patch: [] }, 'patch');
  });
});

describe('null counts as absent', () => {
  it.each(OPTIONAL_FIELDS.map(([type, name, , variant]) => [`${type}.${name}`, name, variant] as const))(
    '%s: null is accepted and dropped',
    (_label, name, variant) => {
      const event = minimalExample(variant);
      expect(validateEvent({ ...event, [name]: null })).toEqual({ ok: true, event });
    },
  );

  it('a null type is a missing type', () => {
    expectRejected({ type: null, percent: 3 }, 'type');
  });
});

describe('GraphQL types generated from the table', () => {
  /** Every field name that more than one variant has, with the variants that have it. */
  const shared = new Map<string, VariantDefinition[]>();
  for (const variant of VARIANTS) {
    for (const name of Object.keys(variant.fields)) shared.set(name, [...(shared.get(name) ?? []), variant]);
  }
  const sharedNames = [...shared].filter(([, variants]) => variants.length > 1);

  it('has fields shared by several variants to check', () => {
    expect(sharedNames.map(([name]) => name)).toEqual(expect.arrayContaining(['message', 'durationMs', 'result', 'name', 'messageId']));
  });

  it.each(sharedNames)('"%s" has one output type in every variant that has it', (name, variants) => {
    const types = variants.map((variant) => {
      const type = schema.getType(variant.typeName);
      if (!isObjectType(type)) throw new Error(`${variant.typeName} is not an object type`);
      const field = type.getFields()[name];
      expect(field, `${variant.typeName}.${name}`).toBeDefined();
      return String(field!.type);
    });
    expect(new Set(types).size, `${name}: ${types.join(', ')}`).toBe(1);
  });

  it.each(sharedNames.filter(([, variants]) => variants.filter((v) => v.inputField).length > 1))(
    '"%s" has one scalar in every input that has it',
    (name, variants) => {
      const scalars = variants
        .filter((variant) => variant.inputField)
        .map((variant) => {
          const type = schema.getType(`${variant.typeName}Input`);
          if (!isInputObjectType(type)) throw new Error(`${variant.typeName}Input is not an input type`);
          return getNamedType(type.getFields()[name]!.type).name;
        });
      expect(new Set(scalars).size, `${name}: ${scalars.join(', ')}`).toBe(1);
    },
  );

  it('a required field is non-null in the input and the output only where every variant having it requires it', () => {
    for (const variant of AGENT_VARIANTS) {
      const input = schema.getType(`${variant.typeName}Input`);
      if (!isInputObjectType(input)) throw new Error('no input type');
      for (const [name, field] of Object.entries(variant.fields)) {
        expect(isNonNullType(input.getFields()[name]!.type), `${variant.typeName}Input.${name}`).toBe(Boolean(field.required));
        const output = schema.getType(variant.typeName);
        if (!isObjectType(output)) throw new Error('no object type');
        const type = output.getFields()[name]!.type;
        expect(getNamedType(getNullableType(type)).name).toBe(getNamedType(input.getFields()[name]!.type).name);
      }
    }
  });

  it('a client can select every field of every variant in one selection set', () => {
    const fragments = VARIANTS.map((variant) => `... on ${variant.typeName} { ${['__typename', ...Object.keys(variant.fields)].join(' ')} }`);
    const document = parse(`
      query Everything($sessionId: ID!) { agentEvents(sessionId: $sessionId) { id seq type ${fragments.join('\n')} } }
      subscription Follow($sessionId: ID!) { agentProgress(sessionId: $sessionId) { id seq type ${fragments.join('\n')} } }
    `);
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });
});
