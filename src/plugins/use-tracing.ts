import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { getOperationAST, Kind, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isClientError } from '../errors.js';
import { idsOfOperation, type OperationArgs } from '../schema/operation-ids.js';

/** Span attributes: OpenTelemetry's GraphQL conventions, `session.id` as Phoenix and OpenInference read it, and ours. */
export const SpanAttribute = {
  OPERATION_TYPE: 'graphql.operation.type',
  OPERATION_NAME: 'graphql.operation.name',
  SESSION_ID: 'session.id',
  REQUEST_ID: 'request.id',
  /** Codes of the errors in the operation's results, client errors included. */
  ERROR_CODES: 'apg.error.codes',
  /** Events a subscription delivered before it ended. */
  EVENTS_DELIVERED: 'apg.events_delivered',
} as const;

function startSpan(tracer: Tracer, args: OperationArgs): Span {
  const operation = getOperationAST(args.document, args.operationName);
  const type = operation?.operation ?? 'unknown';
  const name = operation?.name?.value;
  const field = operation?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD)?.name.value;
  const span = tracer.startSpan(`${type} ${name ?? field ?? ''}`.trim(), {
    kind: SpanKind.SERVER,
    root: true,
    attributes: { [SpanAttribute.OPERATION_TYPE]: type, ...(name ? { [SpanAttribute.OPERATION_NAME]: name } : {}) },
  });
  setIds(span, args);
  return span;
}

function setIds(span: Span, args: OperationArgs): void {
  const { sessionId, requestId } = idsOfOperation(args);
  if (sessionId) span.setAttribute(SpanAttribute.SESSION_ID, sessionId);
  if (requestId) span.setAttribute(SpanAttribute.REQUEST_ID, requestId);
}

function recordErrors(span: Span, errors: readonly GraphQLError[] | undefined): void {
  if (!errors?.length) return;
  span.setAttribute(SpanAttribute.ERROR_CODES, errors.map((error) => String(error.extensions['code'] ?? 'INTERNAL_SERVER_ERROR')));
  const failure = errors.find((error) => !isClientError(error));
  if (!failure) return;
  span.recordException(failure.originalError ?? failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(failure.extensions['code'] ?? failure.message) });
}

/** Ends `span` once, after `finish`: a stream may both fail and end. */
function ender(span: Span, finish: () => void = () => {}): () => void {
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    finish();
    span.end();
  };
}

/**
 * One span per GraphQL operation, over HTTP, SSE or WebSocket alike, named `<type> <operation name or root field>`,
 * with `session.id` and `request.id` when the operation names them (or its resolvers create them). A
 * subscription's span lasts as long as its stream and counts the events delivered. Failures (not client errors)
 * mark the span as an error. Every span is a root: Phoenix groups traces into sessions by the `session.id` of
 * their root span, so an incoming `traceparent` is not continued.
 */
export function useTracing(tracer: Tracer): Plugin {
  return {
    onExecute({ args }) {
      const span = startSpan(tracer, args);
      return {
        onExecuteDone({ args: done, result }) {
          setIds(span, done); // with the ids its resolvers created
          if (!isAsyncIterable(result)) {
            recordErrors(span, result.errors);
            span.end();
            return;
          }
          const end = ender(span);
          return { onNext: ({ result: next }) => recordErrors(span, next.errors), onEnd: end };
        },
      };
    },
    onSubscribe({ args }) {
      const span = startSpan(tracer, args);
      let delivered = 0;
      const end = ender(span, () => span.setAttribute(SpanAttribute.EVENTS_DELIVERED, delivered));
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            recordErrors(span, result.errors);
            return end();
          }
          return {
            onNext({ result: next }) {
              delivered += 1;
              recordErrors(span, (next as ExecutionResult).errors);
            },
            onEnd: end,
          };
        },
        onSubscribeError({ error }) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          end();
        },
      };
    },
  };
}
