import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatewayError, type ErrorCode } from '../errors.js';

export interface QueryLimitsOptions {
  /** Deepest selection set (introspection's `__schema` aside). */
  maxDepth: number;
  /** Aliases per operation (`__typename` aside). */
  maxAliases: number;
  /** Lexical tokens per document, counted while parsing: a huge document is refused before it is built. */
  maxTokens: number;
  /** Directives per operation. */
  maxDirectives: number;
}

/**
 * GraphQL Armor options for a limit of `n`: its errors have no code and read "Syntax Error: …" for every limit, so
 * report a coded one instead (a validation error, or a parse failure for tokens, where there is no context).
 */
function armor(n: number, code: ErrorCode) {
  return {
    n,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const coded = gatewayError(code, error.message.replace(/^Syntax Error: /, ''), { max: n });
        if (!context) throw coded;
        context.reportError(coded);
      },
    ],
  };
}

/** Refuses documents too deep, too aliased, too long or too decorated, on HTTP, SSE and WebSocket alike. */
export function useQueryLimits({ maxDepth, maxAliases, maxTokens, maxDirectives }: QueryLimitsOptions): Plugin {
  const rules = [
    maxDepthRule(armor(maxDepth, 'QUERY_TOO_DEEP')),
    maxAliasesRule(armor(maxAliases, 'TOO_MANY_ALIASES')),
    maxDirectivesRule(armor(maxDirectives, 'TOO_MANY_DIRECTIVES')),
  ];
  return {
    onParse: maxTokensPlugin(armor(maxTokens, 'TOO_MANY_TOKENS')).onParse,
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}
