import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { getNamedType, isIntrospectionType, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatewayError } from '../errors.js';

/**
 * graphql-js's NoSchemaIntrospectionCustomRule with a code, reported once per entry point (`__schema`, `__type`)
 * rather than for every field below it. `__typename` stays: clients need it.
 */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const type = getNamedType(context.getType());
    const parent = context.getParentType();
    if (type && isIntrospectionType(type) && !(parent && isIntrospectionType(parent))) {
      context.reportError(gatewayError('INTROSPECTION_DISABLED', `Introspection is disabled; the document asks for ${node.name.value}.`));
    }
  },
});

/**
 * Refuses `__schema` and `__type`, and drops the "Did you mean …?" hints of validation errors, which would leak
 * field names one guess at a time: in production the schema is not handed to whoever asks.
 */
export function useDisableIntrospection(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(blockFieldSuggestionsPlugin());
    },
    onValidate({ addValidationRule }) {
      addValidationRule(noIntrospection);
    },
  };
}
