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
 * is left out, so one failure is one line.
 */
export function useErrorLogging(log: Logger): Plugin {
  const logged = new WeakSet<object>();

  function report(args: OperationArgs, errors: readonly GraphQLError[] | undefined): void {
    for (const error of errors ?? []) {
      if (isClientError(error) || logged.has(error)) continue;
      logged.add(error);
      const operation = getOperationAST(args.document, args.operationName);
      log.error(
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

  // Shared by every operation (a subscription keeps what its hooks return for as long as it runs): each result and
  // each next carries its operation's args.
  const onNext = ({ args, result }: { args: OperationArgs; result: ExecutionResult }) => report(args, result.errors);
  const streamHooks = { onNext };
  const onResult = ({ args, result }: { args: OperationArgs; result: AsyncIterable<unknown> | ExecutionResult }) => {
    if (!isAsyncIterable(result)) return report(args, result.errors);
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
      onSubscribeError({ error }) {
        // A stream that throws: a bug, unless it is a coded refusal or the client going away.
        if (!(error instanceof Error) || error.name === 'AbortError' || logged.has(error)) return;
        if (error instanceof GraphQLError && isClientError(error)) return;
        logged.add(error);
        log.error({ operationName: args.operationName ?? undefined, operationType: 'subscription', ...idsOfOperation(args), err: error }, 'graphql operation failed');
      },
    }),
  };
}
