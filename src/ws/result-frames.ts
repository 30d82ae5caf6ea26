import type { ExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';

/**
 * Builds operation `id`'s graphql-ws `next` frames: one string concatenation around the result's JSON, the prefix
 * escaped once per operation. graphql-ws builds a message object per result, validates it and stringifies it; for
 * a subscription's events that was a measurable share of the gateway's CPU (bench/README.md). Same bytes for the
 * client: errors serialize through GraphQLError's own `toJSON`, as graphql-ws does it.
 */
export function nextFrames(id: string): (result: ExecutionResult) => string {
  const prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  return (result) => prefix + JSON.stringify(result) + '}';
}
