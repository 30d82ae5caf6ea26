import type { ExecutionResult, GraphQLError } from 'graphql';
import { maskError } from 'graphql-yoga';
import type { OperationArgs } from '../schema/operation-ids.js';
import type { StreamErrors } from './send-results-directly.js';
import { coded } from './use-error-codes.js';
import type { ErrorLogging } from './use-error-logging.js';

/** Yoga's message for a masked error when `maskedErrors.errorMessage` does not name one. */
const YOGA_ERROR_MESSAGE = 'Unexpected error.';

/** The part of Yoga's `maskedErrors` option this applies as well. */
export interface MaskedErrorsOptions {
  /** Masked errors then carry the original's message. */
  isDev?: boolean;
  errorMessage?: string;
}

/** Yoga lets an aborted operation's error through unmasked (its `isAbortError`). */
function isAbort(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * What a subscription's errors go through on their way out, for WebSocket subscriptions whose results the gateway
 * sends itself and that therefore skip envelop's `subscribe` (compiled-subscriptions.ts): the same steps, in the
 * same order, as the plugins would apply them. useErrorCodes codes what graphql-js leaves bare, ErrorLogging logs
 * the failures once, and Yoga masks the unexpected ones last (its masking plugin comes after every plugin of ours).
 *
 * Why skip envelop: it wraps each subscription's stream in two async iterators, one for per-result hooks and one for
 * per-error hooks, because Yoga's masking and our error logging have both. For a held subscription they were ~3 KB
 * of its ~14.7 KB of heap (bench/README.md), kept for hours for results that nearly never carry an error.
 */
export class DirectSubscriptionErrors implements StreamErrors {
  constructor(
    private readonly logging: ErrorLogging,
    /** The `maskedErrors` Yoga was given. */
    private readonly masking: MaskedErrorsOptions,
  ) {}

  private mask(error: unknown): Error {
    return maskError(error, this.masking.errorMessage ?? YOGA_ERROR_MESSAGE, this.masking.isDev);
  }

  result(args: OperationArgs, result: ExecutionResult): ExecutionResult {
    const withCodes = coded(result);
    this.logging.resultErrors(args, withCodes.errors);
    if (!withCodes.errors) return withCodes;
    return { ...withCodes, errors: withCodes.errors.map((error) => this.mask(error) as GraphQLError) };
  }

  thrown(args: OperationArgs, error: unknown): unknown {
    this.logging.streamError(args, error);
    return isAbort(error) ? error : this.mask(error);
  }
}
