import { SAFE_ID_PATTERN } from '../ids.js';
import { MAX_JSON_DEPTH } from './json-limits.js';
import type { RawEvent } from './types.js';
import { agentEventSchema, anyEventSchema, INT_MAX, validateEvent, type Validation } from './validation.js';
import { AGENT_VARIANTS, ENVELOPE_FIELDS, VARIANTS, type FieldSpec, type VariantDefinition } from './variants.js';

/**
 * A shortcut past the zod schema for events fresh from `JSON.parse`, checked against the same variant table once per
 * event on the gateway's hot path. It only ever vouches for valid events: anything it rejects, or does not try to
 * decide, goes to `validateEvent`, which has the final word and words the reason. So every rule here may be stricter
 * than zod's, never looser.
 */

interface FieldRule {
  name: string;
  /** Where zod puts the field in the event it returns. */
  position: number;
  kind: FieldSpec['kind'];
  required: boolean;
  /** Text length bounds in UTF-16 units. */
  minLength: number;
  maxLength: number;
}

interface VariantRules {
  type: string;
  /** In the order zod builds its output: the envelope, then the variant's own fields. */
  fields: readonly FieldRule[];
  byName: ReadonlyMap<string, FieldRule>;
  requiredCount: number;
}

function rulesOf(variant: VariantDefinition): VariantRules {
  const fields = Object.entries({ ...ENVELOPE_FIELDS, ...variant.fields }).map(
    ([name, { spec, required = false }], position): FieldRule => ({
      name,
      position,
      kind: spec.kind,
      required,
      minLength: required ? 1 : 0,
      maxLength: spec.kind === 'text' ? spec.max : 0,
    }),
  );
  return {
    type: variant.type,
    fields,
    byName: new Map(fields.map((field) => [field.name, field])),
    requiredCount: fields.filter((field) => field.required).length,
  };
}

const RULES_BY_TYPE = new Map(VARIANTS.map((variant) => [variant.type, rulesOf(variant)]));
const AGENT_RULES_BY_TYPE = new Map(AGENT_VARIANTS.map((variant) => [variant.type, RULES_BY_TYPE.get(variant.type)!]));

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * Whether `value` is JSON zod's `z.json()` returns unchanged, with no object or array deeper than `MAX_JSON_DEPTH`
 * (`depth` is the level of `value`, the event being level 1). Recursion is safe: it stops at that depth. Symbol
 * keys, which zod refuses, are not looked for: JSON.parse never makes them.
 */
function isPlainJsonWithin(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJsonWithin(value[i], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    // zod's record drops a `__proto__` key from its copy, so the event it returns would differ from this one.
    if (key === '__proto__' || !isPlainJsonWithin((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function fits(rule: FieldRule, value: unknown): boolean {
  switch (rule.kind) {
    case 'id':
      return typeof value === 'string' && SAFE_ID_PATTERN.test(value);
    case 'text':
      // zod counts code points: a string over the limit in UTF-16 units may still fit, which is zod's to decide.
      return typeof value === 'string' && value.length >= rule.minLength && value.length <= rule.maxLength;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= INT_MAX;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0;
    case 'percent':
      // NaN fails both comparisons.
      return typeof value === 'number' && value >= 0 && value <= 100;
    case 'boolean':
      return typeof value === 'boolean';
    case 'json':
      return isPlainJsonWithin(value, 2);
    case 'jsonArray':
      return Array.isArray(value) && value.length > 0 && isPlainJsonWithin(value, 2);
  }
}

/**
 * The event in `value` (a new object without its null fields, which mean "absent"), when it is certainly one
 * `validateEvent` would accept with `agentEventSchema` (`agentOnly`) or `anyEventSchema`, returning a deep-equal
 * event; undefined otherwise. `value` must come from `JSON.parse` and belong to the caller: JSON values in the event
 * are the caller's, not copies as zod makes. `ignoredKeys` (no field of any variant) are left out of the event
 * instead of refused, like the envelope fields of a channel message.
 */
export function checkParsedEvent(value: Record<string, unknown>, agentOnly: boolean, ignoredKeys: ReadonlySet<string> = NO_KEYS): RawEvent | undefined {
  const rules = (agentOnly ? AGENT_RULES_BY_TYPE : RULES_BY_TYPE).get(value.type as string);
  if (rules === undefined) return undefined;
  let requiredSeen = 0;
  // Built as the fields are checked; senders usually write them in the table's order, which is zod's.
  const event: RawEvent = { type: rules.type };
  let lastPosition = -1;
  let inZodOrder = true;
  for (const key in value) {
    const field = value[key];
    if (field === null || key === 'type') continue;
    const rule = rules.byName.get(key);
    if (rule === undefined) {
      if (ignoredKeys.has(key)) continue;
      return undefined;
    }
    if (!fits(rule, field)) return undefined;
    if (rule.required) requiredSeen++;
    if (rule.position < lastPosition) inZodOrder = false;
    lastPosition = rule.position;
    event[key] = field;
  }
  if (requiredSeen !== rules.requiredCount) return undefined;
  return inZodOrder ? event : inZodOrderOf(event, rules);
}

/** The same event with its keys in zod's order, so that serialising it gives the text zod's event would. */
function inZodOrderOf(event: RawEvent, rules: VariantRules): RawEvent {
  const ordered: RawEvent = { type: rules.type };
  for (const { name } of rules.fields) if (Object.hasOwn(event, name)) ordered[name] = event[name];
  return ordered;
}

/**
 * `validateEvent`'s answer for an event the caller owns (fresh from `JSON.parse`, or built for this call from a
 * request's coerced input): the one-pass check when it vouches for the event, zod otherwise. The event returned may
 * share the caller's JSON values instead of copying them.
 */
export function validateOwnedEvent(value: unknown, agentOnly: boolean): Validation {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const event = checkParsedEvent(value as Record<string, unknown>, agentOnly);
    if (event !== undefined) return { ok: true, event };
  }
  return validateEvent(value, agentOnly ? agentEventSchema : anyEventSchema);
}
