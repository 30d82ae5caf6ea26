import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ErrorCode, withCode } from '../errors.js';

function coded(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((error) => error.extensions['code'] === undefined)) return result;
  return { ...result, errors: result.errors.map((error) => (error.path ? error : withCode(error, ErrorCode.BAD_USER_INPUT))) };
}

/**
 * graphql-js leaves one kind of client error without a code: variable values that do not fit their types (a
 * wrong scalar, a missing non-null, a oneOf input with two fields). They carry no path; this gives them
 * BAD_USER_INPUT, on HTTP, SSE and WebSocket alike.
 */
export function useErrorCodes(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (!isAsyncIterable(result)) setResult(coded(result));
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (!isAsyncIterable(result)) setResult(coded(result));
      },
    }),
  };
}
