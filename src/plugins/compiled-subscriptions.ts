import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import type { GatewayContext, ResultSender } from '../schema/context.js';
import { CompiledExecution, type CompiledOperation } from './compiled-execution.js';
import { sendResultsDirectly, type StreamErrors } from './send-results-directly.js';
import { SharedExecution } from './shared-execution.js';

type Subscribed = Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/** A compiled operation with its subscribe function, made once per operation rather than per subscription. */
interface CompiledSubscription extends CompiledOperation {
  subscribe: (run: ExecutionArgs) => Subscribed;
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
 * Two ways in:
 * - `plugin()`, for subscriptions that go through envelop (SSE, and WebSocket ones while tracing must see every
 *   result): each result is executed and passed on to the plugins' hooks.
 * - `subscribeDirectly`, for a WebSocket subscription whose transport can send results itself (`resultSender` in
 *   its context), called by graphql-ws in place of envelop's `subscribe`: error-free results are sent straight from
 *   here (send-results-directly.ts), and `errors` does to the rest what the plugins would (direct-subscriptions.ts).
 *   Without `errors` (tracing counts every result, so it must see them all) there is no direct way.
 */
export class CompiledSubscriptions {
  private readonly bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Compiled>>();

  constructor(private readonly errors: StreamErrors | undefined) {}

  plugin(): Plugin {
    return {
      onSubscribe: ({ args, setSubscribeFn }) => {
        const operation = this.compiled(args);
        if (operation) setSubscribeFn(operation.subscribe);
      },
    };
  }

  /** The subscription run and sent without envelop, or undefined when it cannot be (see the class). */
  subscribeDirectly(args: ExecutionArgs): Subscribed | undefined {
    const { resultSender } = args.contextValue as GatewayContext;
    if (!this.errors || !resultSender) return undefined;
    const operation = this.compiled(args);
    if (!operation) return undefined;
    return CompiledSubscriptions.sendDirectly(operation, args, resultSender, this.errors);
  }

  private compiled(args: ExecutionArgs): CompiledSubscription | null {
    let byDocument = this.bySchema.get(args.schema);
    if (!byDocument) this.bySchema.set(args.schema, (byDocument = new WeakMap()));
    let byOperation = byDocument.get(args.document);
    if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
    const name = args.operationName ?? '';
    if (!byOperation.has(name)) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      if (!isCompiledQuery(result)) {
        byOperation.set(name, null);
      } else {
        const operation: CompiledSubscription = { query: result, shared: new SharedExecution(), subscribe: (run) => CompiledSubscriptions.subscribe(operation, run) };
        byOperation.set(name, operation);
      }
    }
    return byOperation.get(name)!;
  }

  private static async subscribe(operation: CompiledOperation, run: ExecutionArgs): Subscribed {
    const source = await createSourceEventStream(run);
    if (!isAsyncIterable(source)) return source;
    const execution = new CompiledExecution(operation, run.contextValue, run.variableValues ?? undefined);
    return mapAsyncIterator(source, (event) => execution.execute(event));
  }

  private static async sendDirectly(operation: CompiledOperation, run: ExecutionArgs, sender: ResultSender, errors: StreamErrors): Subscribed {
    const source = await createSourceEventStream(run);
    // A subscription refused as it starts (its resolver threw): one result with errors, as the plugins would leave it.
    if (!isAsyncIterable(source)) return errors.result(run, source);
    const execution = new CompiledExecution(operation, run.contextValue, run.variableValues ?? undefined);
    return sendResultsDirectly(source[Symbol.asyncIterator](), execution, sender, errors, run);
  }
}
