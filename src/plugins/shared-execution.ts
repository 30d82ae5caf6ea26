import type { ExecutionResult } from 'graphql';

/** The last error-free result of one compiled operation: for which event, under which variables. */
interface LastResult {
  event: unknown;
  variables: string;
  result: ExecutionResult;
}

/**
 * Lets one compiled operation execute once per event for all its subscriptions with the same variables: the
 * second and later subscribers get the first one's result object, and with it the bytes already serialized for it
 * (result-frames.ts). Several browsers following one session (tabs, the console) with the same document are then
 * served for the cost of one, as the issue's "execute once per distinct selection set" asks.
 *
 * One entry per compiled operation is enough, and keeps nothing per subscription: the live subscribers of a session
 * are handed the same event object one after another (parsed once per process, dispatched to each listener in
 * turn), so a later subscriber meets the entry its predecessor just left. Events read from history are each
 * subscriber's own objects and never match. Results with errors, and results still pending, are not kept.
 *
 * Sound while a subscription's result depends only on the event, the document and the variables: the event types'
 * resolvers read the event alone (src/schema/events.ts), not the context. A field that depended on the caller would
 * have to give this up.
 */
export class SharedExecution {
  private last: LastResult | undefined;

  /** The result kept for `event` under `variables` (serialized once per subscription), if it is the last one. */
  resultFor(event: unknown, variables: string): ExecutionResult | undefined {
    const last = this.last;
    return last !== undefined && last.event === event && last.variables === variables ? last.result : undefined;
  }

  /** Keeps an error-free result for the subscribers that execute the same event next. */
  keep(event: unknown, variables: string, result: ExecutionResult): void {
    if (!result.errors) this.last = { event, variables, result };
  }
}
