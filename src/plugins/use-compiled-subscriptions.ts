import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../schema/context.js';
import { CompiledExecution, type CompiledOperation } from './compiled-execution.js';
import { sendResultsDirectly } from './send-results-directly.js';
import { SharedExecution } from './shared-execution.js';

/** A compiled operation with its subscribe function, made once per operation rather than per subscription. */
interface CompiledSubscription extends CompiledOperation {
  subscribe: (run: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
}

/** Compiled subscription operations, per parsed document (Yoga's parse cache hands out one object per text). */
type Compiled = Map<string, CompiledSubscription | null>;

/**
 * Subscriptions execute their selection set once per event per subscriber: at thousands of subscribers that is the
 * gateway's hot loop. This compiles each subscription operation once (graphql-jit) and runs every event through the
 * compiled code instead of the generic executor. The source stream is set up by graphql-js itself
 * (createSourceEventStream: argument values, the subscribe resolver, its errors), since graphql-jit's own subscribe
 * hands the resolver the operation's variables in place of the field's arguments. Queries and mutations keep the
 * generic executor, and so does an operation graphql-jit cannot compile.
 *
 * With `sendDirectly`, an operation whose transport can send results itself (WebSocket: `resultSender` in its
 * context) sends its error-free results straight from here, skipping every per-result hook (send-results-directly.ts).
 * A plugin that must see every result, not only those with errors (tracing counts them), needs it off.
 */
export function useCompiledSubscriptions({ sendDirectly }: { sendDirectly: boolean }): Plugin {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Compiled>>();

  function compiled(args: ExecutionArgs): CompiledSubscription | null {
    let byDocument = bySchema.get(args.schema);
    if (!byDocument) bySchema.set(args.schema, (byDocument = new WeakMap()));
    let byOperation = byDocument.get(args.document);
    if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
    const name = args.operationName ?? '';
    if (!byOperation.has(name)) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      if (!isCompiledQuery(result)) {
        byOperation.set(name, null);
      } else {
        const operation: CompiledSubscription = { query: result, shared: new SharedExecution(), subscribe: (run) => subscribe(operation, run) };
        byOperation.set(name, operation);
      }
    }
    return byOperation.get(name)!;
  }

  async function subscribe(operation: CompiledOperation, run: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(run);
    if (!isAsyncIterable(source)) return source;
    const execution = new CompiledExecution(operation, run.contextValue, run.variableValues ?? undefined);
    const { resultSender } = run.contextValue as GatewayContext;
    if (sendDirectly && resultSender) return sendResultsDirectly(source[Symbol.asyncIterator](), execution, resultSender);
    return mapAsyncIterator(source, (event) => execution.execute(event));
  }

  return {
    onSubscribe({ args, setSubscribeFn }) {
      const operation = compiled(args);
      if (operation) setSubscribeFn(operation.subscribe);
    },
  };
}
