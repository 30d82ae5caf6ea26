import { GraphQLError } from 'graphql';
import { isGatewayError } from '../errors.js';
import { eventJson } from '../events/event-json.js';
import type { SessionEvent } from '../events/types.js';
import type { FollowItem, FollowStream } from '../progress/follow-session.js';
import { shuttingDown } from '../plugins/use-drain.js';
import { KEEP_ALIVE_MS } from '../ws/graphql-ws.js';

/** A comment line this often keeps proxies and load balancers from closing a quiet stream: the WebSocket ping interval. */
export const SSE_HEARTBEAT_MS = KEEP_ALIVE_MS;

/** How long an EventSource waits before reconnecting after the stream broke (the SSE `retry:` field). */
export const SSE_RETRY_MS = 1_000;

const encoder = new TextEncoder();

function message(event: string, data: unknown, id?: string): Uint8Array {
  return encoder.encode(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** An event as its SSE message: `id:` its cursor, `event:` its type, `data:` the event as JSON. */
function eventMessage(event: SessionEvent): Uint8Array {
  const json = eventJson(event);
  return message(event.event.type, json, String(json['id']));
}

export function errorBody(error: GraphQLError) {
  return { errors: [error.toJSON()] };
}

export function unexpected(): GraphQLError {
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/**
 * The events of `items` as SSE messages, with a comment every SSE_HEARTBEAT_MS. Ends with `event: done` when the
 * events end, with `event: error` on an error (UNAVAILABLE/SHUTTING_DOWN when `drain` fires), and quietly when
 * `client` aborts (it left); in every case `items` is returned, so the session is no longer followed.
 *
 * While the reader keeps up, live events are enqueued the moment they arrive (FollowStream.handLiveTo): pulled
 * through `items.next()`, each would leave a chain of promises behind for the wait that follows, which at
 * thousands of streams outlives garbage collections (bench/README.md). Once the reader falls behind (the stream's
 * queue is full: the client reads slowly), events wait in the follower and are pulled as the reader asks for
 * them, and the follower's bounded buffer and history refill apply as on every transport.
 */
export function sseStream(items: FollowStream, drain: AbortSignal, client: AbortSignal, onUnexpected: (error: unknown) => void) {
  let finish: (last?: Uint8Array) => void = () => {};
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
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
      items.handLiveTo({
        takeLive(event) {
          if (finished || (controller.desiredSize ?? 0) <= 0) return false;
          try {
            controller.enqueue(eventMessage(event));
          } catch {
            finish(); // the reader cancelled: the client left
          }
          return true;
        },
      });
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
      try {
        controller.enqueue(eventMessage(item));
      } catch {
        // The stream was closed meanwhile (drain, client gone): finish() already cleaned up.
      }
    },
    cancel() {
      finish();
    },
  });
}
