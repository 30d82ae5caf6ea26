import { z } from 'zod';
import { SAFE_ID_PATTERN } from '../ids.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-limits.js';
import type { RawEvent } from './types.js';
import { AGENT_VARIANTS, ENVELOPE_FIELDS, VARIANTS, type FieldDefinition, type VariantDefinition } from './variants.js';

export const INT_MAX = 2_147_483_647;

function fieldSchema({ spec, required }: FieldDefinition): z.ZodType {
  switch (spec.kind) {
    case 'id':
      return z.string().regex(SAFE_ID_PATTERN, 'must be 1–128 letters, digits, - or _');
    case 'text':
      return z.string().min(required ? 1 : 0).max(spec.max);
    case 'int':
      return z.number().int().min(0).max(INT_MAX);
    case 'number':
      return z.number().min(0);
    case 'percent':
      return z.number().min(0).max(100);
    case 'boolean':
      return z.boolean();
    case 'json':
      return z.json();
    case 'jsonArray':
      // Non-empty: inside Redis, cjson cannot tell `[]` from `{}`, so an empty patch could not be checked there.
      return z.array(z.json()).min(1);
  }
}

function variantSchema(variant: VariantDefinition) {
  const shape: Record<string, z.ZodType> = { type: z.literal(variant.type) };
  for (const [name, field] of Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields })) {
    const schema = fieldSchema(field);
    shape[name] = field.required ? schema : schema.optional();
  }
  return z.strictObject(shape).describe(variant.description).meta({ title: variant.typeName });
}

type VariantSchema = ReturnType<typeof variantSchema>;

function unionOf(variants: readonly VariantDefinition[]) {
  return z.discriminatedUnion('type', variants.map(variantSchema) as [VariantSchema, ...VariantSchema[]]);
}

/** What agents may publish: every variant but the gateway-made ones. */
export const agentEventSchema = unionOf(AGENT_VARIANTS);
/** What may appear in a session's history or on its channel. */
export const anyEventSchema = unionOf(VARIANTS);

export type Validation = { ok: true; event: RawEvent } | { ok: false; reason: string };

/** `null` means "absent" in the raw format, as in GraphQL; dropping it keeps stored events small and uniform. */
function withoutNulls(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));
}

export function validateEvent(value: unknown, schema: typeof agentEventSchema = agentEventSchema): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'an event must be a JSON object' };
  }
  // Before zod, whose recursive walk would overflow the stack on absurd nesting.
  if (jsonDepthExceeds(value)) return { ok: false, reason: `objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels` };
  const result = schema.safeParse(withoutNulls(value));
  if (result.success) return { ok: true, event: result.data as RawEvent };
  return { ok: false, reason: z.prettifyError(result.error).replaceAll('\n', '; ') };
}
