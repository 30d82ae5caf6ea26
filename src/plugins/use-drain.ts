import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { gatewayError } from '../errors.js';

/**
 * A gateway's shutdown state, shared by the HTTP server, the Yoga plugin below and readiness: once `start()` is
 * called, readiness fails, new HTTP requests are refused, SSE streams end, and `idle()` tells when the operations
 * already executing (queries and mutations, over HTTP or WebSocket) have finished.
 */
export class Drain {
  private readonly abort = new AbortController();
  private running = 0;
  private waiters: (() => void)[] = [];

  get draining(): boolean {
    return this.abort.signal.aborted;
  }

  /** Aborted when draining starts. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Queries and mutations executing now, on every transport. */
  get executing(): number {
    return this.running;
  }

  start(): void {
    this.abort.abort();
  }

  /** Resolves once nothing executes (at once if nothing does). */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Runs `work`, counted in `executing` until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      if (--this.running === 0) {
        const woken = this.waiters;
        this.waiters = [];
        for (const wake of woken) wake();
      }
    }
  }
}

/** What a client gets instead of a response while the gateway drains: retry elsewhere (resume with `after`). */
export function shuttingDown() {
  return gatewayError('UNAVAILABLE', 'This gateway is shutting down; retry (resubscribe with after) on another replica.', { reason: 'SHUTTING_DOWN' });
}

/**
 * Ends `source` once `signal` fires: one last result carrying `shuttingDown()`, then completion, and the source is
 * returned (so the subscription stops listening). Until then it passes every result through.
 */
function endOnDrain(source: AsyncIterable<ExecutionResult>, signal: AbortSignal): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let onAbort: () => void = () => {};
  const drained = new Promise<'drained'>((resolve) => {
    onAbort = () => resolve('drained');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const finish = () => {
    finished = true;
    signal.removeEventListener('abort', onAbort);
  };
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      const next = await Promise.race([iterator.next(), drained]);
      if (next !== 'drained') {
        if (next.done) finish();
        return next;
      }
      finish();
      // Not awaited: a source waiting for its next event settles that wait first.
      iterator.return?.().catch(() => {});
      return { done: false, value: { errors: [shuttingDown()] } };
    },
    async return() {
      finish();
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      finish();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Draining for Yoga: while `drain.draining`, new HTTP requests get 503 with `UNAVAILABLE` (reason `SHUTTING_DOWN`)
 * except the probes and metrics, and requests whose headers arrived before the drain (`admittedBeforeDrain` in the
 * server context, set by the HTTP server while their body was still arriving); SSE subscriptions end with that error (WebSocket subscriptions end with their
 * socket, closed 1001 by the graphql-ws glue); every execution is counted so shutdown can wait for it.
 */
export function useDrain(drain: Drain, passThrough: readonly string[] = ['/health', '/ready', '/metrics']): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI, serverContext }) {
      const admitted = (serverContext as { admittedBeforeDrain?: boolean } | undefined)?.admittedBeforeDrain === true;
      if (!drain.draining || admitted || passThrough.includes(url.pathname)) return;
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [shuttingDown().toJSON()] }), {
          status: 503,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => drain.track(async () => executeFn(args)));
    },
    onSubscribe({ args }) {
      // WebSocket operations carry their socket in the context (src/ws/graphql-ws.ts); HTTP ones (SSE) do not.
      if ('socket' in (args.contextValue as object)) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endOnDrain(result as AsyncIterable<ExecutionResult>, drain.signal));
        },
      };
    },
  };
}
