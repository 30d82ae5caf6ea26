import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * graphql-jit coerces variables more loosely than graphql-js in two ways that matter here:
 * - it does not check @oneOf inputs: an AgentEventInput with two variants, or none, or a null one, passes;
 * - it takes an array where an input object belongs (as `{}`), below a variable's top level.
 * Both are only possible inside input objects, so only variables of input object types are looked at.
 */

function holdsInputObject(type: GraphQLInputType): boolean {
  return isInputObjectType(getNamedType(type));
}

/**
 * Whether `value`, as the client sent it for `type`, may fall into one of the gaps. It errs on the side of yes (a
 * key graphql-js would drop still counts), never no.
 */
function mayFallInGap(type: GraphQLInputType, value: unknown): boolean {
  if (isNonNullType(type)) return mayFallInGap(type.ofType, value);
  if (value === null || typeof value !== 'object') return false;
  if (isListType(type)) {
    const itemType = type.ofType as GraphQLInputType;
    return Array.isArray(value) ? value.some((item) => mayFallInGap(itemType, item)) : mayFallInGap(itemType, value);
  }
  if (!isInputObjectType(type)) return false;
  if (Array.isArray(value)) return true;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (type.isOneOf && (keys.length !== 1 || object[keys[0]!] === null)) return true;
  const fields = type.getFields();
  return keys.some((key) => fields[key] !== undefined && holdsInputObject(fields[key].type) && mayFallInGap(fields[key].type, object[key]));
}

/**
 * For one operation: answers per request whether its variables may fall into one of graphql-jit's gaps, so such a
 * request can be left to graphql-js, which refuses it in its own words. Undefined when no variable of the
 * operation holds an input object.
 */
export function jitVariableGaps(schema: GraphQLSchema, definitions: readonly VariableDefinitionNode[]): ((variables: Record<string, unknown> | undefined) => boolean) | undefined {
  const checked = definitions.flatMap((definition) => {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    return type && holdsInputObject(type) ? [{ name: definition.variable.name.value, type }] : [];
  });
  if (checked.length === 0) return undefined;
  return (variables) => variables != null && checked.some(({ name, type }) => mayFallInGap(type, variables[name]));
}
