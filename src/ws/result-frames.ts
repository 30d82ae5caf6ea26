import type { ExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';
import type { ResultSender } from '../schema/context.js';

/**
 * The last result serialized, and its JSON: the subscribers that share one result (src/plugins/shared-execution.ts)
 * send it one after another, so the second and later ones reuse the bytes. One entry, not a map keyed by result,
 * so that it costs the common case (one subscriber per session) a comparison and the garbage collector nothing.
 */
let lastResult: ExecutionResult | undefined;
let lastJson = '';

function jsonOf(result: ExecutionResult): string {
  if (result !== lastResult) {
    lastJson = JSON.stringify(result);
    lastResult = result;
  }
  return lastJson;
}

/**
 * Sends operation `id`'s results as graphql-ws `next` frames: one string concatenation around the result's JSON,
 * the prefix escaped once per operation. graphql-ws builds a message object per result, validates it and
 * stringifies it; for a subscription's events that was a measurable share of the gateway's CPU (bench/README.md).
 * Same bytes for the client: errors serialize through GraphQLError's own `toJSON`, as graphql-ws does it. An object
 * rather than a closure: one is held for every running subscription.
 */
export class NextFrames implements ResultSender {
  private readonly prefix: string;

  constructor(
    id: string,
    private readonly sendFrame: (frame: string) => Promise<void>,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  }

  frame(result: ExecutionResult): string {
    return this.prefix + jsonOf(result) + '}';
  }

  send(result: ExecutionResult): Promise<void> {
    return this.sendFrame(this.frame(result));
  }
}
