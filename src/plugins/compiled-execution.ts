import type { ExecutionResult, Source } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { isPromise, type PromiseOrValue } from 'graphql-yoga';
import { withGraphQLErrors } from './jit-errors.js';
import type { SharedExecution } from './shared-execution.js';

/** A compiled subscription operation, with the result its subscribers share per event. */
export interface CompiledOperation {
  query: CompiledQuery;
  shared: SharedExecution;
  /** The document's source, for the locations of errors. */
  source: Source | undefined;
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
    const { query, shared, source } = this.operation;
    const kept = shared.resultFor(event, this.variables);
    if (kept) return kept;
    const result = query.query(event, this.contextValue, this.variableValues);
    if (isPromise(result)) return result.then((settled) => withGraphQLErrors(settled, source));
    const checked = withGraphQLErrors(result, source);
    shared.keep(event, this.variables, checked);
    return checked;
  }
}
