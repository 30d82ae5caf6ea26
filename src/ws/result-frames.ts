import type { ExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';

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
 * Builds operation `id`'s graphql-ws `next` frames: one string concatenation around the result's JSON, the prefix
 * escaped once per operation. graphql-ws builds a message object per result, validates it and stringifies it; for
 * a subscription's events that was a measurable share of the gateway's CPU (bench/README.md). Same bytes for the
 * client: errors serialize through GraphQLError's own `toJSON`, as graphql-ws does it.
 */
export function nextFrames(id: string): (result: ExecutionResult) => string {
  const prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  return (result) => prefix + jsonOf(result) + '}';
}
