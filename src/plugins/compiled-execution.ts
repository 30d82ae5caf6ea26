import { GraphQLError, type ExecutionResult } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { isPromise, type PromiseOrValue } from 'graphql-yoga';
import type { SharedExecution } from './shared-execution.js';

/** A compiled subscription operation, with the result its subscribers share per event. */
export interface CompiledOperation {
  query: CompiledQuery;
  shared: SharedExecution;
}

/** graphql-jit reports some errors as its own objects without extensions; the other plugins expect GraphQLErrors. */
function asGraphQLError(error: { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }): GraphQLError {
  if (error instanceof GraphQLError && error.extensions) return error;
  return new GraphQLError(error.message, { ...(error.path ? { path: error.path } : {}), extensions: error.extensions ?? {} });
}

function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
}

/**
 * One subscription's executions of its compiled operation: each event is the root value of one execution of the
 * selection set, as graphql-js's subscribe does it, and the subscriptions of the operation with the same variables
 * share each event's result (shared-execution.ts). An object rather than closures: one is held for every running
 * subscription.
 */
export class CompiledExecution {
  /** The variables, serialized once: what sharing compares. */
  private readonly variables: string;

  constructor(
    private readonly operation: CompiledOperation,
    private readonly contextValue: unknown,
    private readonly variableValues: Record<string, unknown> | undefined,
  ) {
    this.variables = JSON.stringify(variableValues ?? {});
  }

  execute(event: unknown): PromiseOrValue<ExecutionResult> {
    const { query, shared } = this.operation;
    const kept = shared.resultFor(event, this.variables);
    if (kept) return kept;
    const result = query.query(event, this.contextValue, this.variableValues);
    if (isPromise(result)) return result.then(withGraphQLErrors);
    const checked = withGraphQLErrors(result);
    shared.keep(event, this.variables, checked);
    return checked;
  }
}
