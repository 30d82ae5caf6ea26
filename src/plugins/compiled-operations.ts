import { getOperationAST, type ExecutionArgs, type ExecutionResult, type Source } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { isPromise, type Plugin, type PromiseOrValue } from 'graphql-yoga';
import { CompiledDocuments } from './compiled-documents.js';
import { withGraphQLErrors } from './jit-errors.js';
import { jitVariableGaps } from './jit-variable-gaps.js';

type Execute = (args: ExecutionArgs) => PromiseOrValue<ExecutionResult>;

/** A query or mutation compiled by graphql-jit, with what it must leave to graphql-js. */
class CompiledRequest {
  private readonly mayFallInGap: ((variables: Record<string, unknown> | undefined) => boolean) | undefined;
  private readonly source: Source | undefined;

  constructor(
    private readonly query: CompiledQuery,
    args: ExecutionArgs,
  ) {
    this.source = args.document.loc?.source;
    this.mayFallInGap = jitVariableGaps(args.schema, getOperationAST(args.document, args.operationName)?.variableDefinitions ?? []);
  }

  execute(args: ExecutionArgs, generic: Execute): PromiseOrValue<ExecutionResult> {
    const variables = args.variableValues ?? undefined;
    if (this.mayFallInGap?.(variables)) return generic(args);
    const result = this.query.query(args.rootValue, args.contextValue, variables);
    if (isPromise(result)) return result.then((settled) => withGraphQLErrors(settled, this.source));
    // No data: a request error, raised before execution began (variables that do not fit their types). graphql-js
    // words these better (the path inside the variable) and marks them as HTTP 400; it refuses them again, unexecuted.
    if (!('data' in result)) return generic(args);
    return withGraphQLErrors(result, this.source);
  }
}

/**
 * Queries and mutations run through code graphql-jit compiled for their document instead of the generic executor:
 * on the publish path that executor took 20 µs per mutation, most of it coercing the event's variables, against
 * about 1.5 µs compiled (bench/README.md). An operation is compiled on its third execution (see
 * CompiledDocuments); until then, and for what graphql-jit cannot compile, the generic executor runs.
 *
 * graphql-jit coerces some variables more loosely (it does not check @oneOf inputs: jit-variable-gaps.ts) and words
 * variable errors less well: requests whose variables may fall into those gaps, or that it refuses, are left to the
 * generic executor, so clients see exactly the answers they saw before.
 */
export function useCompiledOperations(): Plugin {
  const compiled = new CompiledDocuments((query, args) => new CompiledRequest(query, args), 2);
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = compiled.get(args);
      if (request) setExecuteFn((run) => request.execute(run, executeFn as Execute));
    },
  };
}
