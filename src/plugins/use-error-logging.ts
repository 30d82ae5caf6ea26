import { getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isClientError } from '../errors.js';
import type { Logger } from '../log.js';
import { idsOfOperation, type OperationArgs } from '../schema/operation-ids.js';

/**
 * Logs each error of a GraphQL operation that is a failure here rather than a refusal of the caller's request
 * (see `isClientError`) once, at error level: `graphql operation failed` with the operation's name and type, its
 * `sessionId` and `requestId`, the error's `code` and `path`, and the underlying error. Refusals are the caller's
 * business and are not logged. Must come after useErrorCodes, which codes the client errors graphql-js leaves bare.
 *
 * Yoga logs the unexpected errors it masks too, without the operation; for the errors logged here that second line
 * is left out, so one failure is one line. `plugin()` does it for every operation that goes through the plugins;
 * WebSocket subscriptions that bypass them (direct-subscriptions.ts) call the methods themselves.
 */
export class ErrorLogging {
  private readonly logged = new WeakSet<object>();

  constructor(private readonly log: Logger) {}

  /** Logs the failures among an operation's result errors, each once. */
  resultErrors(args: OperationArgs, errors: readonly GraphQLError[] | undefined): void {
    for (const error of errors ?? []) {
      if (isClientError(error) || this.logged.has(error)) continue;
      this.logged.add(error);
      const operation = getOperationAST(args.document, args.operationName);
      this.log.error(
        {
          operationName: operation?.name?.value,
          operationType: operation?.operation,
          ...idsOfOperation(args),
          code: error.extensions['code'],
          path: error.path?.join('.'),
          err: error.originalError ?? error,
        },
        'graphql operation failed',
      );
    }
  }

  /** Logs an error a subscription's stream threw: a bug, unless it is a coded refusal or the client going away. */
  streamError(args: OperationArgs, error: unknown): void {
    if (!(error instanceof Error) || error.name === 'AbortError' || this.logged.has(error)) return;
    if (error instanceof GraphQLError && isClientError(error)) return;
    this.logged.add(error);
    this.log.error({ operationName: args.operationName ?? undefined, operationType: 'subscription', ...idsOfOperation(args), err: error }, 'graphql operation failed');
  }

  plugin(): Plugin {
    const { logged } = this;
    // Shared by every operation (a subscription keeps what its hooks return for as long as it runs): each result and
    // each next carries its operation's args.
    const onNext = ({ args, result }: { args: OperationArgs; result: ExecutionResult }) => this.resultErrors(args, result.errors);
    const streamHooks = { onNext };
    const onResult = ({ args, result }: { args: OperationArgs; result: AsyncIterable<unknown> | ExecutionResult }) => {
      if (!isAsyncIterable(result)) return this.resultErrors(args, result.errors);
      return streamHooks;
    };
    const executeHooks = { onExecuteDone: onResult };

    return {
      onYogaInit({ yoga }) {
        const { logger } = yoga;
        const logError = logger.error.bind(logger);
        logger.error = (...args: unknown[]) => {
          if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null && logged.has(args[0])) return;
          logError(...args);
        };
      },
      onExecute: () => executeHooks,
      onSubscribe: ({ args }) => ({
        onSubscribeResult: onResult,
        onSubscribeError: ({ error }) => this.streamError(args, error),
      }),
    };
  }
}
