import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { expect, onTestFinished } from 'vitest';
import { START_SESSION } from './operations.js';
import { Waiters } from './waiters.js';
import WebSocket from 'ws';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export function errorCodes(response: GraphQLResponse | { extensions?: Record<string, unknown> }[]): unknown[] {
  const errors = Array.isArray(response) ? response : (response.errors ?? []);
  return errors.map((error) => error.extensions?.['code']);
}

/** One GraphQL request over HTTP as `userId` (development identity). */
export async function graphql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  userId = 'alice',
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': userId },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Inside a test: a graphql-ws client as `userId`, disposed when the test finishes. */
export function wsClientForTest(wsUrl: string, userId = 'alice'): Client {
  const client = wsClient(wsUrl, userId);
  onTestFinished(() => client.dispose());
  return client;
}

/** Inside a test: starts a session with a fresh id as `userId` on the gateway at `url`; fails the test if refused. */
export async function startedSession(url: string, userId = 'alice'): Promise<string> {
  const sessionId = `s-${randomUUID()}`;
  expect((await graphql(url, START_SESSION, { sessionId }, userId)).errors).toBeUndefined();
  return sessionId;
}

export function wsClient(wsUrl: string, userId = 'alice'): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { userId }, retryAttempts: 0, lazy: true });
}

export type Outcome = 'complete' | 'error';

/** Everything one subscription received, with ways to await what it should receive. */
export class Collected<T = Record<string, any>> {
  readonly events: T[] = [];
  readonly errors: { message: string; extensions?: Record<string, unknown> }[] = [];
  outcome: Outcome | undefined;
  private readonly waiters = new Waiters();
  readonly done: Promise<Outcome>;
  private finish!: (outcome: Outcome) => void;
  unsubscribe: () => void = () => {};

  constructor() {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  push(event: T) {
    this.events.push(event);
    this.notify();
  }

  fail(errors: { message: string; extensions?: Record<string, unknown> }[]) {
    this.errors.push(...errors);
    this.notify();
  }

  end(outcome: Outcome) {
    this.outcome ??= outcome;
    this.finish(outcome);
    this.notify();
  }

  private notify() {
    this.waiters.notify();
  }

  /** Resolves once `ready()` holds; rejects if the subscription ends first or `timeoutMs` passes (a stuck test). */
  until(ready: (collected: this) => boolean, what = 'condition', timeoutMs = 20_000): Promise<void> {
    return this.waiters.until(
      () => (ready(this) ? { value: undefined } : this.outcome ? { error: new Error(`ended (${this.outcome}) before ${what}: ${this.summary()}`) } : undefined),
      { ms: timeoutMs, message: () => `timed out waiting for ${what}: ${this.summary()}` },
    );
  }

  count(n: number): Promise<void> {
    return this.until((c) => c.events.length >= n, `${n} events`);
  }

  private summary() {
    return `${this.events.length} events, errors ${JSON.stringify(this.errors)}`;
  }
}

/** Subscribes over graphql-ws; the collected events are the payload's single root field. */
export function subscribe<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const collected = new Collected<T>();
  collected.unsubscribe = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next(result) {
        if (result.errors) collected.fail(result.errors as never);
        const root = result.data ? Object.values(result.data)[0] : undefined;
        if (root) collected.push(root);
      },
      error(error) {
        collected.fail(Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }]);
        collected.end('error');
      },
      complete() {
        collected.end('complete');
      },
    },
  );
  return collected;
}

/** The messages of an SSE response body, as their `event:` and (single-line) `data:` fields. */
export async function* sseMessages(response: Response): AsyncGenerator<{ event: string | undefined; data: string | undefined }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      yield { event: /^event: (.*)$/m.exec(block)?.[1], data: /^data: (.*)$/m.exec(block)?.[1] };
    }
  }
}

/** Subscribes over Yoga's SSE transport (`Accept: text/event-stream`), as `userId` (or with the given headers). */
export function subscribeSse<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  userId: string,
  headers: Record<string, string> = { 'x-user-id': userId },
): Collected<T> {
  const collected = new Collected<T>();
  const abort = new AbortController();
  collected.unsubscribe = () => abort.abort();
  void (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      for await (const { event, data } of sseMessages(response)) {
        if (event === 'complete') return collected.end('complete');
        if (!data) continue;
        const result = JSON.parse(data) as GraphQLResponse<Record<string, T>>;
        if (result.errors) collected.fail(result.errors);
        const root = result.data ? Object.values(result.data)[0] : undefined;
        if (root) collected.push(root);
      }
      collected.end('complete');
    } catch {
      collected.end('error');
    }
  })();
  return collected;
}
