import { createClient, type Client } from 'graphql-ws';
import { AGENT_EVENTS, AGENT_PROGRESS } from './documents';
import type { AgentEvent } from './model';

/** The gateway serves the console, so GraphQL is on the same origin. */
const GRAPHQL_PATH = '/graphql';
/** agentEvents returns at most this many per call. */
const HISTORY_PAGE = 1_000;

/** Who the console acts as: a JWT when authentication is on, a claimed user id in development mode. */
export interface Identity {
  token: string;
  userId: string;
}

/** A coded error from the gateway (`extensions.code`), or a transport failure (`code` undefined). */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function codedError(errors: readonly { message?: unknown; extensions?: Record<string, unknown> }[]): GatewayError {
  const first = errors[0];
  const code = first?.extensions?.['code'];
  return new GatewayError(String(first?.message ?? 'Unknown error'), typeof code === 'string' ? code : undefined);
}

function headersOf(identity: Identity): Record<string, string> {
  // Both may go: the gateway reads the token when authentication is on, the user id in development mode.
  return {
    ...(identity.token ? { authorization: `Bearer ${identity.token}` } : {}),
    ...(identity.userId ? { 'x-user-id': identity.userId } : {}),
  };
}

/** One query or mutation over HTTP; its data, or a GatewayError. */
export async function request<T>(query: string, variables: Record<string, unknown>, identity: Identity): Promise<T> {
  let body: { data?: T | null; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] };
  try {
    const response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headersOf(identity) },
      body: JSON.stringify({ query, variables }),
    });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new GatewayError(`The gateway cannot be reached (${(error as Error).message}).`, undefined);
  }
  if (body.errors?.length) throw codedError(body.errors);
  return body.data as T;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'reloading' | 'ended' | 'failed';

export interface FollowOptions {
  sessionId: string;
  /** Read at every (re)connection: a token pasted after a 4101 (expired) close is used for the next attempt. */
  identity: () => Identity;
  /** The id of the last durable event applied: every (re)subscription resumes right after it. */
  lastId: () => string | undefined;
  onEvent: (event: AgentEvent) => void;
  /** The history must be read again from the start (the cursor expired): drop what is shown. */
  onReset: () => void;
  onStatus: (status: ConnectionStatus, detail?: string) => void;
}

/** Close codes after which trying again with the same credentials cannot help (src/ws/close-codes.ts). */
const GIVE_UP_CLOSES: Record<number, string> = {
  4403: 'The gateway refused the credentials: check the token (or the user id in development mode).',
  4400: 'The gateway refused a malformed message.',
  4401: 'The gateway says the connection was not initialised.',
  4409: 'The gateway saw the same subscription twice.',
  4429: 'The gateway saw too many initialisation requests.',
};

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';
}

/**
 * Follows a session over graphql-ws: its retained history, then live. The client reconnects on its own after any
 * drop (gateway restart, network, expired token), and every (re)subscription asks for the events after the last
 * one applied, so nothing is missed or shown twice. CURSOR_EXPIRED (the events missed are no longer retained)
 * reloads what history holds via `agentEvents` and follows on from there. Returns a function that stops.
 */
export function followSession(options: FollowOptions): () => void {
  const { sessionId, onStatus } = options;
  let stopped = false;
  let unsubscribe: () => void = () => {};
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`;

  const client: Client = createClient({
    url,
    connectionParams: () => {
      const { token, userId } = options.identity();
      return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(userId ? { userId } : {}) };
    },
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Quick first retries (a restarting gateway is back within a second or two), then at most every 5 s.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000) + Math.random() * 300)),
    on: {
      connecting: (isRetry) => !stopped && onStatus(isRetry ? 'reconnecting' : 'connecting'),
      connected: () => !stopped && onStatus('live'),
      closed: (event) => {
        // 1000 is the client's own closure once no subscription is left (the session ended, or a refusal).
        if (stopped || (isCloseEvent(event) && event.code === 1000)) return;
        const detail = isCloseEvent(event) ? `closed ${event.code}${event.reason ? `: ${event.reason}` : ''}` : undefined;
        onStatus('reconnecting', detail);
      },
    },
  });

  const retryLater = (ms: number) => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => !stopped && subscribe(), ms);
  };

  function subscribe() {
    // graphql-ws sends this same payload again after every reconnect; the getter makes each send resume from the
    // newest event rather than from where the first subscription started.
    const variables = {
      sessionId,
      get after() {
        return options.lastId() ?? null;
      },
    };
    unsubscribe = client.subscribe<{ agentProgress: AgentEvent }>(
      { query: AGENT_PROGRESS, variables },
      {
        next: (result) => {
          if (result.errors?.length) return failed(codedError(result.errors));
          if (result.data) options.onEvent(result.data.agentProgress);
        },
        error: (error) => failed(error),
        complete: () => {
          if (!stopped) onStatus('ended');
        },
      },
    );
  }

  function failed(error: unknown) {
    if (stopped) return;
    unsubscribe();
    if (isCloseEvent(error)) {
      const giveUp = GIVE_UP_CLOSES[error.code];
      if (giveUp) return onStatus('failed', giveUp);
      onStatus('reconnecting', `closed ${error.code}${error.reason ? `: ${error.reason}` : ''}`);
      return retryLater(5_000);
    }
    const coded = error instanceof GatewayError ? error : Array.isArray(error) ? codedError(error) : new GatewayError(String(error), undefined);
    switch (coded.code) {
      case 'CURSOR_EXPIRED':
      case 'INVALID_CURSOR':
        return void reload();
      case 'UNAVAILABLE':
        onStatus('reconnecting', coded.message);
        return retryLater(2_000);
      case 'SESSION_NOT_FOUND':
        return onStatus('failed', 'No such session: it ended, expired, or belongs to another user.');
      case 'UNAUTHENTICATED':
        return onStatus('failed', `Not signed in: ${coded.message} Paste a fresh token, then follow again.`);
      default:
        return onStatus('failed', coded.message);
    }
  }

  /** The events after our cursor are gone: start over from what history still holds. */
  async function reload() {
    onStatus('reloading', 'Events were missed and are no longer retained: reloading the history.');
    options.onReset();
    try {
      for (let after: string | null = null; ; ) {
        const page: { agentEvents: AgentEvent[] } = await request(AGENT_EVENTS, { sessionId, after, first: HISTORY_PAGE }, options.identity());
        if (stopped) return;
        for (const event of page.agentEvents) options.onEvent(event);
        if (page.agentEvents.length < HISTORY_PAGE) break;
        after = page.agentEvents.at(-1)!.id;
      }
    } catch (error) {
      return onStatus('failed', `Could not reload the history: ${(error as Error).message}`);
    }
    subscribe();
  }

  subscribe();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    unsubscribe();
    void client.dispose();
    onStatus('idle');
  };
}
