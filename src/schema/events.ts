import type { SessionEvent } from '../events/types.js';
import { cursorOf } from '../events/types.js';
import { AGENT_VARIANTS, VARIANT_BY_TYPE, VARIANTS, type FieldSpec } from '../events/variants.js';
import { builder } from './builder.js';

type ScalarName = 'ID' | 'String' | 'Int' | 'Float' | 'Boolean' | 'JSON';

const SCALAR_OF_KIND: Record<FieldSpec['kind'], ScalarName> = {
  id: 'ID',
  text: 'String',
  int: 'Int',
  number: 'Float',
  percent: 'Float',
  boolean: 'Boolean',
  json: 'JSON',
  jsonArray: 'JSON',
};

export const AgentEventType = builder.enumType('AgentEventType', {
  description: 'Which variant an event is: the `type` of the raw Redis format.',
  values: Object.fromEntries(VARIANTS.map((variant) => [variant.type, { description: variant.description }])),
});

export const AgentEvent = builder.interfaceRef<SessionEvent>('AgentEvent').implement({
  description: 'Something that happened in a session. Every variant implements this interface.',
  resolveType: (event) => VARIANT_BY_TYPE.get(event.event.type)?.typeName ?? null,
  fields: (t) => ({
    id: t.id({
      description: 'Opaque cursor: pass it back as `after` to resume right after this event.',
      resolve: (event) => cursorOf(event.seq),
    }),
    seq: t.int({
      description: '1, 2, 3 … per session, with no gaps, so a client can prove it missed nothing. A live-only event repeats the seq before it.',
      resolve: (event) => event.seq,
    }),
    type: t.field({ type: AgentEventType, resolve: (event) => event.event.type }),
    sessionId: t.id({ resolve: (event) => event.sessionId }),
    requestId: t.id({ nullable: true, resolve: (event) => event.event.requestId ?? null }),
    agent: t.string({ nullable: true, description: 'Which agent sent it.', resolve: (event) => event.event.agent ?? null }),
    timestamp: t.field({ type: 'DateTime', resolve: (event) => event.timestamp }),
    ephemeral: t.boolean({
      description: 'True for a live-only event (plain Redis PUBLISH): not in the history, never replayed.',
      resolve: (event) => event.ephemeral,
    }),
  }),
});

/**
 * A client selects many variants in one selection set, where GraphQL requires same-named fields to agree on
 * nullability: an output field is non-null only if every variant that has it requires it.
 */
function nonNullOutput(name: string): boolean {
  return VARIANTS.every((variant) => {
    const field = variant.fields[name];
    return field === undefined || field.required === true;
  });
}

for (const variant of VARIANTS) {
  builder.objectRef<SessionEvent>(variant.typeName).implement({
    description: variant.description,
    interfaces: [AgentEvent],
    isTypeOf: (event) => (event as SessionEvent).event.type === variant.type,
    fields: (t) =>
      Object.fromEntries(
        Object.entries(variant.fields).map(([name, field]) => [
          name,
          t.field({
            type: SCALAR_OF_KIND[field.spec.kind] as 'String',
            nullable: !nonNullOutput(name),
            description: field.description,
            resolve: (event) => (event.event[name] ?? null) as string,
          }),
        ]),
      ),
  });
}

const variantInputs = AGENT_VARIANTS.map((variant) => ({
  variant,
  input: builder.inputType(`${variant.typeName}Input`, {
    description: variant.description,
    fields: (t) =>
      Object.fromEntries(
        Object.entries(variant.fields).map(([name, field]) => [
          name,
          t.field({ type: SCALAR_OF_KIND[field.spec.kind] as 'String', required: Boolean(field.required), description: field.description }),
        ]),
      ),
  }),
}));

/** Exactly one field set: which variant to publish, and its fields. */
export const AgentEventInput = builder.inputType('AgentEventInput', {
  isOneOf: true,
  description: 'One agent event: set exactly one field, named after its variant.',
  fields: (t) =>
    Object.fromEntries(variantInputs.map(({ variant, input }) => [variant.inputField!, t.field({ type: input, description: variant.description })])),
});

/** The raw-format `type` of the variant a oneOf input names. */
export const TYPE_OF_INPUT_FIELD: ReadonlyMap<string, string> = new Map(AGENT_VARIANTS.map((variant) => [variant.inputField!, variant.type]));
