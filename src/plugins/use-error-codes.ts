import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ErrorCode, withCode } from '../errors.js';

/** The result with BAD_USER_INPUT on its errors that have neither a code nor a path (see useErrorCodes). */
export function coded(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((error) => error.extensions['code'] === undefined)) return result;
  return { ...result, errors: result.errors.map((error) => (error.path ? error : withCode(error, ErrorCode.BAD_USER_INPUT))) };
}

/**
 * graphql-js leaves one kind of client error without a code: variable values that do not fit their types (a
 * wrong scalar, a missing non-null, a oneOf input with two fields). They carry no path; this gives them
 * BAD_USER_INPUT, on HTTP, SSE and WebSocket alike.
 */
export function useErrorCodes(): Plugin {
  // The same hook objects for every operation: a subscription keeps what its hooks return for as long as it runs.
  const onResult = ({ result, setResult }: { result: AsyncIterable<unknown> | ExecutionResult; setResult: (result: ExecutionResult) => void }) => {
    if (!isAsyncIterable(result)) setResult(coded(result));
  };
  const executeHooks = { onExecuteDone: onResult };
  const subscribeHooks = { onSubscribeResult: onResult };
  return {
    onExecute: () => executeHooks,
    onSubscribe: () => subscribeHooks,
  };
}
