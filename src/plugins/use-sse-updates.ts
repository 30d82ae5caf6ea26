import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatewayError, isGatewayError } from '../errors.js';
import { eventJson } from '../events/event-json.js';
import type { FollowItem } from '../progress/follow-session.js';
import type { GatewayServices } from '../schema/context.js';
import { followProgress } from '../schema/follow-progress.js';
import { KEEP_ALIVE_MS } from '../ws/graphql-ws.js';
import { shuttingDown } from './use-drain.js';

/** `/updates/{sessionId}` or `/updates/{sessionId}/{requestId}`. */
const UPDATES_PATH = /^\/updates\/([^/]+)(?:\/([^/]+))?\/?$/;

/** A comment line this often keeps proxies and load balancers from closing a quiet stream: the WebSocket ping interval. */
export const SSE_HEARTBEAT_MS = KEEP_ALIVE_MS;

/** How long an EventSource waits before reconnecting after the stream broke (the SSE `retry:` field). */
export const SSE_RETRY_MS = 1_000;

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

const encoder = new TextEncoder();

function message(event: string, data: unknown, id?: string): Uint8Array {
  return encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function errorBody(error: GraphQLError) {
  return { errors: [error.toJSON()] };
}

function unexpected(): GraphQLError {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/**
 * The events of `items` as SSE messages (`id:` the cursor, `event:` the type, `data:` the event as JSON), pulled
 * as the client reads; a comment every SSE_HEARTBEAT_MS. Ends with `event: done` when the events end, with
 * `event: error` on an error (UNAVAILABLE/SHUTTING_DOWN when `drain` fires), and quietly when `client` aborts (it
 * left); in every case `items` is returned, so the session is no longer followed.
 */
function sseBody(items: AsyncIterableIterator<FollowItem>, drain: AbortSignal, client: AbortSignal, onUnexpected: (error: unknown) => void) {
  let finish: (last?: Uint8Array) => void = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let finished = false;
      const heartbeat = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(': heartbeat\n\n'));
        } catch {
          finish(); // the stream is gone
        }
      }, SSE_HEARTBEAT_MS);
      const onDrain = () => finish(message('error', errorBody(shuttingDown())));
      const onLeave = () => finish();
      finish = (last) => {
        if (finished) return;
        finished = true;
        clearInterval(heartbeat);
        drain.removeEventListener('abort', onDrain);
        client.removeEventListener('abort', onLeave);
        try {
          if (last && !client.aborted) controller.enqueue(last);
          controller.close();
        } catch {
          // Already cancelled by the reader.
        }
        // Not awaited: a follower waiting for its next live event settles that wait first.
        items.return?.().catch(onUnexpected);
      };
      drain.addEventListener('abort', onDrain, { once: true });
      client.addEventListener('abort', onLeave, { once: true });
      controller.enqueue(encoder.encode(`retry: ${SSE_RETRY_MS}\n: stream open\n\n`));
      if (drain.aborted) onDrain();
      if (client.aborted) onLeave();
    },
    async pull(controller) {
      let next: IteratorResult<FollowItem>;
      try {
        next = await items.next();
      } catch (error) {
        if (!isGatewayError(error)) onUnexpected(error);
        return finish(message('error', errorBody(isGatewayError(error) ? error : unexpected())));
      }
      if (next.done) return finish(message('done', {}));
      const item = next.value;
      if ('error' in item) return finish(message('error', errorBody(item.error)));
      const json = eventJson(item);
      try {
        controller.enqueue(message(item.event.type, json, String(json['id'])));
      } catch {
        // The stream was closed meanwhile (drain, client gone): finish() already cleaned up.
      }
    },
    cancel() {
      finish();
    },
  });
}

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
      let items: AsyncIterableIterator<FollowItem>;
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
      const body = sseBody(items, drain, request.signal, (error) => services.log.error({ err: error, path: url.pathname }, 'SSE updates failed'));
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
