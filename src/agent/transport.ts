import { print } from 'graphql';
import { PublishAgentEventsDocument, type AgentEventInput, type PublishAgentEventsMutation } from '../../client/generated/graphql.js';

/** An event as the gateway answered it: cursor, seq, timestamp and the variant's fields. */
export type PublishedEvent = PublishAgentEventsMutation['publishAgentEvents'][number];

/** Codes worth another try with the same idempotency key: the gateway or its store was briefly unavailable. */
const RETRYABLE_CODES = new Set(['UNAVAILABLE', 'RATE_LIMITED']);
/** HTTP statuses a proxy or a draining replica answers while the gateway may come back. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/** A publish the gateway refused, or that could not be delivered within the retry budget. */
export class AgentPublishError extends Error {
  constructor(
    message: string,
    /** The gateway's `extensions.code`, or `NETWORK_ERROR` / `HTTP_<status>` when no GraphQL answer came. */
    readonly code: string,
    /** True when trying again later may succeed (the budget ran out); false when the events themselves were refused. */
    readonly retryable: boolean,
    /** For RATE_LIMITED: how long the gateway asked to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AgentPublishError';
  }
}

export interface TransportOptions {
  /** The gateway's GraphQL endpoint, e.g. `https://progress.example.com/graphql`. */
  url: string;
  /** A publish token (from `startSession`, `session` or a queued job) or an agent JWT, sent as a Bearer token. */
  token?: string;
  /** Extra headers (e.g. `x-user-id` against a gateway in development mode). */
  headers?: Record<string, string>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface PublishBatch {
  sessionId: string;
  requestId?: string;
  agent?: string;
  events: AgentEventInput[];
  idempotencyKey: string;
}

const PUBLISH_AGENT_EVENTS = print(PublishAgentEventsDocument);

interface GraphQLAnswer {
  data?: PublishAgentEventsMutation | null;
  errors?: { message: string; extensions?: { code?: string; retryAfterMs?: number } }[];
}

/** One attempt at `publishAgentEvents`: the published events, or an AgentPublishError saying whether to retry. */
export async function sendBatch(options: TransportOptions, batch: PublishBatch): Promise<PublishedEvent[]> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let response: Response;
  let answer: GraphQLAnswer;
  try {
    response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: PUBLISH_AGENT_EVENTS, variables: batch }),
    });
    answer = (await response.json()) as GraphQLAnswer;
  } catch (error) {
    // No answer, or half of one: the events may or may not have been appended — the idempotency key settles it.
    throw new AgentPublishError(`network error: ${(error as Error).message}`, 'NETWORK_ERROR', true);
  }
  const refusal = answer.errors?.[0];
  if (refusal) {
    const code = refusal.extensions?.code ?? `HTTP_${response.status}`;
    throw new AgentPublishError(refusal.message, code, RETRYABLE_CODES.has(code) || RETRYABLE_STATUSES.has(response.status), refusal.extensions?.retryAfterMs);
  }
  if (!answer.data) throw new AgentPublishError(`HTTP ${response.status} without data`, `HTTP_${response.status}`, RETRYABLE_STATUSES.has(response.status));
  return answer.data.publishAgentEvents;
}
