import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { SignJWT, type JWK } from 'jose';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { sseMessages, type GraphQLResponse } from './clients.js';
import type { TestGateway } from './gateway.js';

/** Secrets of the authenticated test gateways (each at least 32 characters, as loadConfig demands). */
export const JWT_SECRET = 'auth-matrix-jwt-secret-of-at-least-32-characters';
export const PUBLISH_TOKEN_SECRET = 'auth-matrix-publish-token-secret-of-32-chars-or-more';

/** The cookie the gateway reads a token from (src/auth/credentials.ts). */
export const TOKEN_COOKIE = 'apg_token';

/** A guard against a stuck call, not a synchronisation: every call resolves on an event long before this. */
const CALL_TIMEOUT_MS = 10_000;

type SigningKey = Parameters<SignJWT['sign']>[0];

export function hs256Key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export interface MintOptions {
  /** Omit for a token without `sub`. */
  sub?: string;
  /** Extra claims, e.g. `{ role: 'agent' }`. */
  claims?: Record<string, unknown>;
  /** @default 'HS256' */
  alg?: string;
  kid?: string;
  issuer?: string;
  audience?: string | string[];
  /** `exp` in seconds since the epoch. @default one hour from now */
  exp?: number;
}

/** A JWT as an identity provider would issue it. */
export function mintJwt(key: SigningKey, options: MintOptions = {}): Promise<string> {
  const exp = options.exp ?? Math.floor(Date.now() / 1000) + 3600;
  let jwt = new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt(Math.min(Math.floor(Date.now() / 1000), exp - 60))
    .setExpirationTime(exp);
  if (options.sub !== undefined) jwt = jwt.setSubject(options.sub);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}

/** `promise`, or a rejection naming `what` after `ms`: a guard against a stuck test, never a way to wait. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What one call over one transport came back with. */
export interface Outcome {
  /** HTTP status (HTTP and SSE). */
  status?: number;
  /** Set when the WebSocket was closed instead of answering (e.g. 4403: credentials refused at connection). */
  closeCode?: number;
  /** Every GraphQL result received, in order: one for a query or mutation, one per event for a subscription. */
  results: GraphQLResponse[];
}

/**
 * An outcome in the words of the matrix: `ok` (answered with data), `null` (answered, the root field is null),
 * `CODE` or `CODE:REASON` (GraphQL errors' extensions.code and .reason), `close:NNNN` (WebSocket closed), or
 * `http:NNN` (an HTTP response with no GraphQL result).
 */
export function outcomeOf(outcome: Outcome): string {
  if (outcome.closeCode !== undefined) return `close:${outcome.closeCode}`;
  const errors = outcome.results.flatMap((result) => result.errors ?? []);
  if (errors.length > 0) {
    return errors
      .map(({ extensions }) => [extensions?.['code'], extensions?.['reason']].filter((part) => part !== undefined).join(':'))
      .join(',');
  }
  const first = outcome.results[0];
  if (!first) return outcome.status === undefined ? 'nothing' : `http:${outcome.status}`;
  const root = first.data ? Object.values(first.data)[0] : undefined;
  return root === null || root === undefined ? 'null' : 'ok';
}

/** The root field of every result, in order (a subscription's events, or a query's one answer). */
export function roots<T = Record<string, any>>(outcome: Outcome): T[] {
  return outcome.results.map((result) => (result.data ? Object.values(result.data)[0] : undefined) as T);
}

/** One GraphQL request over plain HTTP POST, with `Authorization: Bearer` when a token is given. */
export async function overHttp(url: string, query: string, variables: Record<string, unknown>, token: string | undefined): Promise<Outcome> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // What Apollo Client sends: a single JSON result, never a stream.
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
  return { status: response.status, results: json ? [JSON.parse(text) as GraphQLResponse] : [] };
}

export type SseCarrier = 'header' | 'query' | 'cookie';

export interface SseOptions {
  /** Where the token travels: `Authorization: Bearer`, the `token` query parameter, or the `apg_token` cookie. */
  carrier: SseCarrier;
  /** GET (what EventSource does; query and variables in the URL) or POST (a JSON body; needed for mutations). */
  method: 'GET' | 'POST';
  /** Stop reading after this many results (a subscription that goes on live). */
  stopAfter?: number;
}

/** One operation over Yoga's SSE transport (`Accept: text/event-stream`), read until `complete` or `stopAfter`. */
export async function overSse(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token: string | undefined,
  { carrier, method, stopAfter = Number.POSITIVE_INFINITY }: SseOptions,
): Promise<Outcome> {
  const target = new URL(url);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token !== undefined) {
    if (carrier === 'header') headers['authorization'] = `Bearer ${token}`;
    if (carrier === 'query') target.searchParams.set('token', token);
    if (carrier === 'cookie') headers['cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}`;
  }
  let body: string | undefined;
  if (method === 'GET') {
    target.searchParams.set('query', query);
    target.searchParams.set('variables', JSON.stringify(variables));
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query, variables });
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`SSE call timed out: ${query}`)), CALL_TIMEOUT_MS);
  const results: GraphQLResponse[] = [];
  try {
    const response = await fetch(target, { method, headers, ...(body === undefined ? {} : { body }), signal: abort.signal });
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const text = await response.text();
      const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
      return { status: response.status, results: json ? [JSON.parse(text) as GraphQLResponse] : [] };
    }
    for await (const { event, data } of sseMessages(response)) {
      if (event === 'complete') return { status: response.status, results };
      if (event === 'next' && data) results.push(JSON.parse(data) as GraphQLResponse);
      if (results.length >= stopAfter) return { status: response.status, results };
    }
    return { status: response.status, results };
  } finally {
    clearTimeout(timer);
    abort.abort(); // closes a stream left open by stopAfter
  }
}

export type WsCarrier = 'param' | 'cookie';

export interface WsOptions {
  /** The `authorization` connection parameter, or the `apg_token` cookie on the upgrade request. */
  carrier: WsCarrier;
  /** Stop after this many results (a subscription that goes on live). */
  stopAfter?: number;
}

/** A `ws` WebSocket that sends `cookie` on its upgrade request (what a browser does for its own origin). */
export function webSocketWithCookie(cookie: string): unknown {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { cookie } });
    }
  };
}

function closeCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') return error.code;
  return undefined;
}

/** One operation over graphql-ws on a fresh connection, until it completes, the socket closes, or `stopAfter`. */
export function overWs(
  wsUrl: string,
  query: string,
  variables: Record<string, unknown>,
  token: string | undefined,
  { carrier, stopAfter = Number.POSITIVE_INFINITY }: WsOptions,
): Promise<Outcome> {
  const cookie = carrier === 'cookie' && token !== undefined ? `${TOKEN_COOKIE}=${encodeURIComponent(token)}` : undefined;
  const client = createClient({
    url: wsUrl,
    webSocketImpl: cookie ? webSocketWithCookie(cookie) : WebSocket,
    connectionParams: carrier === 'param' && token !== undefined ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  return new Promise<Outcome>((resolve, reject) => {
    const results: GraphQLResponse[] = [];
    let settled = false;
    let unsubscribe = () => {};
    const timer = setTimeout(() => settle(() => reject(new Error(`WebSocket call timed out: ${query}`))), CALL_TIMEOUT_MS);
    const settle = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      void client.dispose();
      then();
    };
    unsubscribe = client.subscribe(
      { query, variables },
      {
        next(result) {
          results.push(result as GraphQLResponse);
          if (results.length >= stopAfter) settle(() => resolve({ results }));
        },
        error(error) {
          const closeCode = closeCodeOf(error);
          if (closeCode !== undefined) return settle(() => resolve({ closeCode, results }));
          const errors = Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }];
          settle(() => resolve({ results: [...results, { errors }] }));
        },
        complete() {
          settle(() => resolve({ results }));
        },
      },
    );
  });
}

export interface JwksServer {
  url: string;
  /** How many times the JWK Set was fetched. */
  readonly hits: number;
  close(): Promise<void>;
}

/** A JWK Set served from a local node:http server on a free port, as an identity provider publishes it. */
export async function serveJwks(keys: JWK[]): Promise<JwksServer> {
  let hits = 0;
  const server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    hits += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get hits() {
      return hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fails when any log line of `gw` contains one of `tokens`, or the signature part of one. */
export function expectNoTokenInLogs(gw: TestGateway, tokens: Iterable<string>): void {
  const logged = JSON.stringify(gw.logs);
  for (const token of tokens) {
    expect(logged.includes(token), `a log line contains a token (${token.slice(0, 12)}…)`).toBe(false);
    // Nor its signature alone: a token cut at a dot is still half a credential.
    const signature = token.split('.').at(-1)!;
    if (signature.length >= 16) expect(logged.includes(signature), 'a log line contains a token signature').toBe(false);
  }
}
