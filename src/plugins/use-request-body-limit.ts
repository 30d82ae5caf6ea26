import type { Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

/** What the HTTP server tells Yoga about the body it read first (src/http/read-body-first.ts). */
export interface BodyLimitContext {
  bodyTooLarge?: boolean;
}

/**
 * Refuses a request whose body the HTTP server found over MAX_REQUEST_BYTES with 413 REQUEST_ENTITY_TOO_LARGE, the
 * answer Yoga's own limit gives. Yoga's limit is off (`maxRequestBodySize: false`): it counts bytes through a stream
 * pipeline on every request, even a body already read, and the server counts them once as it reads.
 */
export function useRequestBodyLimit(): Plugin {
  return {
    onRequestParse({ serverContext }) {
      if (!(serverContext as BodyLimitContext).bodyTooLarge) return;
      throw new GraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
    },
  };
}
