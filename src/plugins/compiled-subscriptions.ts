import { createSourceEventStream, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import type { GatewayContext, ResultSender } from '../schema/context.js';
import { CompiledDocuments } from './compiled-documents.js';
import { CompiledExecution, type CompiledOperation } from './compiled-execution.js';
import { sendResultsDirectly, type StreamErrors } from './send-results-directly.js';
import { SharedExecution } from './shared-execution.js';

type Subscribed = Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/** A compiled operation with its subscribe function, made once per operation rather than per subscription. */
interface CompiledSubscription extends CompiledOperation {
  subscribe: (run: ExecutionArgs) => Subscribed;
}

/**
 * Subscriptions execute their selection set once per event per subscriber: at thousands of subscribers that is the
 * gateway's hot loop. This compiles each subscription operation once (graphql-jit) and runs every event through the
 * compiled code instead of the generic executor. The source stream is set up by graphql-js itself
 * (createSourceEventStream: argument values, the subscribe resolver, its errors), since graphql-jit's own subscribe
 * hands the resolver the operation's variables in place of the field's arguments. An operation graphql-jit cannot
 * compile keeps the generic executor. (Queries and mutations: compiled-operations.ts.)
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
  private readonly compiled = new CompiledDocuments<CompiledSubscription>((query, args) => {
    const operation: CompiledSubscription = {
      query,
      shared: new SharedExecution(),
      source: args.document.loc?.source,
      subscribe: (run) => CompiledSubscriptions.subscribe(operation, run),
    };
    return operation;
  });

  constructor(private readonly errors: StreamErrors | undefined) {}

  plugin(): Plugin {
    return {
      onSubscribe: ({ args, setSubscribeFn }) => {
        const operation = this.compiled.get(args);
        if (operation) setSubscribeFn(operation.subscribe);
      },
    };
  }

  /** The subscription run and sent without envelop, or undefined when it cannot be (see the class). */
  subscribeDirectly(args: ExecutionArgs): Subscribed | undefined {
    const { resultSender } = args.contextValue as GatewayContext;
    if (!this.errors || !resultSender) return undefined;
    const operation = this.compiled.get(args);
    if (!operation) return undefined;
    return CompiledSubscriptions.sendDirectly(operation, args, resultSender, this.errors);
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
