import { createSourceEventStream, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { isAsyncIterable, isPromise, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../schema/context.js';
import { sendResultsDirectly } from './send-results-directly.js';
import { SharedExecution } from './shared-execution.js';

/** A compiled subscription operation, with the result its subscribers share per event. */
interface CompiledOperation {
  query: CompiledQuery;
  shared: SharedExecution;
}

/** Compiled subscription operations, per parsed document (Yoga's parse cache hands out one object per text). */
type Compiled = Map<string, CompiledOperation | null>;

/** graphql-jit reports some errors as its own objects without extensions; the other plugins expect GraphQLErrors. */
function asGraphQLError(error: { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }): GraphQLError {
  if (error instanceof GraphQLError && error.extensions) return error;
  return new GraphQLError(error.message, { ...(error.path ? { path: error.path } : {}), extensions: error.extensions ?? {} });
}

function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
}

/**
 * Subscriptions execute their selection set once per event per subscriber: at thousands of subscribers that is the
 * gateway's hot loop. This compiles each subscription operation once (graphql-jit) and runs every event through the
 * compiled code instead of the generic executor. The source stream is set up by graphql-js itself
 * (createSourceEventStream: argument values, the subscribe resolver, its errors), since graphql-jit's own subscribe
 * hands the resolver the operation's variables in place of the field's arguments. Queries and mutations keep the
 * generic executor, and so does an operation graphql-jit cannot compile.
 *
 * With `sendDirectly`, an operation whose transport can send results itself (WebSocket: `sendResult` in its
 * context) sends its error-free results straight from here, skipping every per-result hook (send-results-directly.ts).
 * A plugin that must see every result, not only those with errors (tracing counts them), needs it off.
 */
export function useCompiledSubscriptions({ sendDirectly }: { sendDirectly: boolean }): Plugin {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Compiled>>();

  function compiled(args: ExecutionArgs): CompiledOperation | null {
    let byDocument = bySchema.get(args.schema);
    if (!byDocument) bySchema.set(args.schema, (byDocument = new WeakMap()));
    let byOperation = byDocument.get(args.document);
    if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
    const name = args.operationName ?? '';
    if (!byOperation.has(name)) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      byOperation.set(name, isCompiledQuery(result) ? { query: result, shared: new SharedExecution() } : null);
    }
    return byOperation.get(name)!;
  }

  return {
    onSubscribe({ args, setSubscribeFn }) {
      const operation = compiled(args);
      if (!operation) return;
      const { query, shared } = operation;
      setSubscribeFn(async (run: ExecutionArgs) => {
        const source = await createSourceEventStream(run);
        if (!isAsyncIterable(source)) return source;
        // Each event is the root value of one execution of the selection set, as graphql-js's subscribe does it,
        // once per event for all the subscriptions of this operation with the same variables.
        const execute = shared.forSubscription(JSON.stringify(run.variableValues ?? {}), (event: unknown) => {
          const result = query.query(event, run.contextValue, run.variableValues);
          return isPromise(result) ? result.then(withGraphQLErrors) : withGraphQLErrors(result);
        });
        const { sendResult } = run.contextValue as GatewayContext;
        if (sendDirectly && sendResult) return sendResultsDirectly(source[Symbol.asyncIterator](), execute, sendResult);
        return mapAsyncIterator(source, execute);
      });
    },
  };
}
