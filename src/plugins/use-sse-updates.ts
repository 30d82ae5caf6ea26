import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatewayError, isGatewayError } from '../errors.js';
import { errorBody, sseStream, unexpected } from '../http/sse-stream.js';
import type { FollowStream } from '../progress/follow-session.js';
import type { GatewayServices } from '../schema/context.js';
import { followProgress } from '../schema/follow-progress.js';

/** `/updates/{sessionId}` or `/updates/{sessionId}/{requestId}`. */
const UPDATES_PATH = /^\/updates\/([^/]+)(?:\/([^/]+))?\/?$/;

/** The HTTP status of a refusal before the stream starts. */
const STATUS_OF_CODE: Record<string, number> = {
  BAD_USER_INPUT: 400,
  INVALID_CURSOR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SESSION_NOT_FOUND: 404,
  CURSOR_EXPIRED: 410,
  UNAVAILABLE: 503,
};

/**
 * Server-Sent Events for EventSource clients: `GET /updates/{sessionId}[/{requestId}]` streams what
 * `agentProgress(sessionId, requestId, after)` does, resuming after `Last-Event-ID` (or the `cursor` query
 * parameter). Refusals before the stream answer with an HTTP status and a coded JSON error body.
 */
export function useSseUpdates(services: GatewayServices, drain: AbortSignal): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = UPDATES_PATH.exec(url.pathname);
      if (!match) return;
      const refuse = (status: number, error: GraphQLError, headers: Record<string, string> = {}) =>
        endResponse(
          new fetchAPI.Response(JSON.stringify(errorBody(error)), {
            status,
            headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
          }),
        );
      if (request.method !== 'GET') return refuse(405, gatewayError('BAD_REQUEST', 'Updates are read with GET (EventSource).'), { allow: 'GET' });
      let items: FollowStream;
      try {
        const principal = await services.authenticator.ofRequest(request);
        items = await followProgress(
          { principal, services },
          {
            sessionId: match[1]!,
            requestId: match[2],
            // A reconnecting EventSource sends the last id it saw; the URL still has the cursor it started from.
            after: request.headers.get('last-event-id') ?? url.searchParams.get('cursor'),
          },
        );
      } catch (error) {
        if (!isGatewayError(error)) {
          services.log.error({ err: error, path: url.pathname }, 'SSE updates failed before streaming');
          return refuse(500, unexpected());
        }
        return refuse(STATUS_OF_CODE[String(error.extensions['code'])] ?? 500, error);
      }
      const body = sseStream(items, drain, request.signal, (error) => services.log.error({ err: error, path: url.pathname }, 'SSE updates failed'));
      endResponse(
        new fetchAPI.Response(body, {
          status: 200,
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            'x-accel-buffering': 'no',
          },
        }),
      );
    },
  };
}
