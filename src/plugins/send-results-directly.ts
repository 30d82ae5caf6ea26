import type { ExecutionResult } from 'graphql';
import { isPromise, type PromiseOrValue } from 'graphql-yoga';
import type { FollowStream, LiveTaker } from '../progress/follow-session.js';
import type { ResultSender } from '../schema/context.js';
import type { OperationArgs } from '../schema/operation-ids.js';

function isFollowStream(source: AsyncIterator<unknown>): source is FollowStream {
  return typeof (source as Partial<FollowStream>).handLiveTo === 'function';
}

/** Executes a subscription's selection set for one event of its source stream. */
export interface SubscriptionExecution {
  execute(event: unknown): PromiseOrValue<ExecutionResult>;
}

/**
 * What the plugins would do to a subscription's errors (mask, code, log), for a stream that does not pass through
 * them (direct-subscriptions.ts). One object for every subscription; `args` says which operation.
 */
export interface StreamErrors {
  /** A result with errors, as it is to go out. */
  result(args: OperationArgs, result: ExecutionResult): ExecutionResult;
  /** An error the stream is to throw, as it is to be thrown. */
  thrown(args: OperationArgs, error: unknown): unknown;
}

/**
 * A subscription's stream for a transport that can send results itself (`GatewayContext.resultSender`): each event
 * is executed and, when its result has no errors, sent right here; only results with errors are yielded, out
 * through graphql-ws, after `errors` did to them what the plugins would (masking, codes, logging:
 * direct-subscriptions.ts), as it does to what the stream throws.
 *
 * Why: envelop and Yoga wrap a subscription's stream once per plugin with a per-result hook, and graphql-ws
 * builds, validates and stringifies a message per result. For an error-free result every one of those hooks is a
 * no-op, but together they built several promise-like objects and closures per event, at 10,000 subscriptions and
 * 10,000 events/s a large share of the gateway's garbage collection (bench/README.md). From a session's follower
 * (FollowStream) live events are taken the moment they arrive, without even a turn of the iterators; the rest
 * (history, gaps, endings, and any event that comes while a send is still leaving) through `next()`.
 *
 * Order and flow control stay as they were: a result is handed to the socket's guarded send (which resolves once
 * the kernel has it) before the next event is taken, and a live event is taken directly only while no earlier send
 * is still leaving, so a slow reader holds its stream back and its follower's bounded buffer takes over. A result
 * with errors is yielded only after every earlier result was sent, and graphql-ws sends it before it asks for
 * more. `return()` (the client's `complete`, the socket closing) reaches the source at once, even while it waits.
 */
export function sendResultsDirectly(
  source: AsyncIterator<unknown>,
  execution: SubscriptionExecution,
  sender: ResultSender,
  errors: StreamErrors,
  args: OperationArgs,
): AsyncGenerator<ExecutionResult, void> {
  return new DirectResults(source, execution, sender, errors, args) as unknown as AsyncGenerator<ExecutionResult, void>;
}

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/**
 * sendResultsDirectly's stream. A class rather than closures: one is held for every running subscription, and its
 * methods on the prototype cost nothing per subscription.
 */
class DirectResults implements AsyncIterableIterator<ExecutionResult>, LiveTaker {
  private stopped = false;
  /** A live event's send that has not reached the kernel yet. */
  private sending = false;
  /** Why a live event's send failed: the operation ends with it. */
  private failure: { error: unknown } | undefined;
  private readonly sent = () => {
    this.sending = false;
  };
  private readonly failed = (error: unknown) => {
    this.sending = false;
    this.failure = { error };
    void this.close();
  };

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly execution: SubscriptionExecution,
    private readonly sender: ResultSender,
    private readonly errors: StreamErrors,
    private readonly args: OperationArgs,
  ) {
    if (isFollowStream(source)) source.handLiveTo(this);
  }

  takeLive(event: unknown): boolean {
    if (this.stopped || this.sending) return false;
    let result: PromiseOrValue<ExecutionResult>;
    try {
      result = this.execution.execute(event);
    } catch {
      return false; // next() executes it again and the error takes the usual way
    }
    if (isPromise(result) || result.errors) return false; // next() runs it again; execution has no side effects
    this.sending = true;
    this.sender.send(result).then(this.sent, this.failed);
    return true;
  }

  private async close(): Promise<void> {
    this.stopped = true;
    await this.source.return?.();
  }

  /** Takes one event; sends its result unless it has errors (then returns it). Nothing of it outlives the call. */
  private async takeOne(): Promise<IteratorResult<ExecutionResult, void> | undefined> {
    let step: IteratorResult<unknown>;
    try {
      step = await this.source.next();
    } catch (error) {
      throw this.errors.thrown(this.args, error);
    }
    if (this.failure) throw this.errors.thrown(this.args, this.failure.error);
    if (step.done || this.stopped) return DONE;
    const executed = this.execution.execute(step.value);
    // Awaited only when it is a promise: an await of a plain value would still cost a turn of the microtask queue.
    const result = isPromise(executed) ? await executed : executed;
    if (result.errors) return { done: false, value: this.errors.result(this.args, result) };
    try {
      await this.sender.send(result);
    } catch (error) {
      // A failed write ends the operation (graphql-ws reports it); the follower must not stay open behind it.
      await this.close();
      throw this.errors.thrown(this.args, error);
    }
    return undefined;
  }

  async next(): Promise<IteratorResult<ExecutionResult, void>> {
    // One call per event, so that while this waits for the next event it holds nothing of the last one.
    for (;;) {
      const answer = await this.takeOne();
      if (answer) return answer;
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult, void>> {
    await this.close();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult, void>> {
    await this.close();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
