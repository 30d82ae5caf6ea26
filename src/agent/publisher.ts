import { randomUUID } from 'node:crypto';
import type { AgentEventInput } from '../../client/generated/graphql.js';
import { AGENT_VARIANTS, VARIANTS } from '../events/variants.js';
import { AgentPublishError, sendBatch, type PublishedEvent, type TransportOptions } from './transport.js';

/** `progress`, `toolCallStarted`, … : the fields of the `@oneOf` AgentEventInput, one per agent variant. */
export type VariantName = keyof AgentEventInput;
/** The input fields of one variant, as generated from the schema. */
export type VariantFields<K extends VariantName> = NonNullable<Extract<AgentEventInput, Record<K, object>>[K]>;
/** One typed method per variant: `publisher.progress({ percent: 40 })`. */
export type VariantMethods = { [K in VariantName]-?: (fields: VariantFields<K>) => Promise<PublishedEvent> };

export interface RetryOptions {
  /** Attempts per batch, the first included. @default 8 */
  attempts?: number;
  /** First back-off; doubles per attempt, with jitter. @default 100 */
  initialDelayMs?: number;
  /** Longest back-off between two attempts. @default 5000 */
  maxDelayMs?: number;
}

export interface AgentPublisherOptions extends TransportOptions {
  sessionId: string;
  /** Put on every event (the request being worked on). */
  requestId?: string;
  /** Put on every event (which agent reports). */
  agent?: string;
  /** Most events per call; keep it at or under the gateway's MAX_PUBLISH_BATCH. @default 100 */
  maxBatch?: number;
  /** Most bytes of events (as JSON) per call, well under the gateway's MAX_REQUEST_BYTES. @default 524288 */
  maxBatchBytes?: number;
  /**
   * How long a text delta waits for more of the same message before it is sent; deltas of one message queued
   * meanwhile are sent as one. 0 sends each at once (still batched while a call is in flight). @default 40
   */
  textDeltaLingerMs?: number;
  retry?: RetryOptions;
}

export interface AgentPublisher extends VariantMethods {
  /** Publishes any variant: `publish({ progress: { percent: 40 } })`. */
  publish(event: AgentEventInput): Promise<PublishedEvent>;
  /** Publishes a burst in order, in as few calls as the batch size allows. */
  batch(events: AgentEventInput[]): Promise<PublishedEvent[]>;
  /** Sends whatever waits (lingering deltas included) and resolves once all of it is settled. */
  flush(): Promise<void>;
  /** Flushes, then refuses further events. */
  close(): Promise<void>;
}

/** One queued event and everyone waiting for it (several when deltas were coalesced into it). */
interface Pending {
  event: AgentEventInput;
  waiters: { resolve: (event: PublishedEvent) => void; reject: (error: unknown) => void }[];
}

const MAX_DELTA_LENGTH = (() => {
  const spec = VARIANTS.find((variant) => variant.inputField === 'textMessageDelta')?.fields['delta']?.spec;
  return spec?.kind === 'text' ? spec.max : 0;
})();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reports an agent's progress to the gateway over HTTP. Events are sent one call at a time, in order; what is
 * queued while a call is in flight goes out as one `publishAgentEvents` batch. Each call carries a fresh
 * idempotency key that its retries reuse, so a retry after a lost response never logs an event twice.
 */
export function createAgentPublisher(options: AgentPublisherOptions): AgentPublisher {
  const maxBatch = options.maxBatch ?? 100;
  const maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
  const lingerMs = options.textDeltaLingerMs ?? 40;
  const { attempts = 8, initialDelayMs = 100, maxDelayMs = 5_000 } = options.retry ?? {};
  const queue: Pending[] = [];
  const idleWaiters: (() => void)[] = [];
  let sending = false;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function enqueue(event: AgentEventInput): Promise<PublishedEvent> {
    if (closed) return Promise.reject(new AgentPublishError('the publisher is closed', 'CLOSED', false));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const last = queue.at(-1);
      const delta = event.textMessageDelta;
      const lastDelta = last?.event.textMessageDelta;
      // Coalesce: a delta joins the queued one of the same message (everything queued goes out in order anyway).
      if (delta && lastDelta && lastDelta.messageId === delta.messageId && lastDelta.delta.length + delta.delta.length <= MAX_DELTA_LENGTH) {
        last.event = { textMessageDelta: { messageId: delta.messageId, delta: lastDelta.delta + delta.delta } };
        last.waiters.push(waiter);
      } else {
        queue.push({ event, waiters: [waiter] });
      }
      schedule(false);
    });
  }

  function schedule(now: boolean) {
    if (sending || queue.length === 0) return;
    const onlyDeltas = queue.every((pending) => pending.event.textMessageDelta);
    if (!now && onlyDeltas && lingerMs > 0) {
      lingerTimer ??= setTimeout(() => {
        lingerTimer = undefined;
        schedule(true);
      }, lingerMs);
      return;
    }
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    sending = true;
    void drain();
  }

  async function drain() {
    while (queue.length > 0) await deliver(queue.splice(0, batchLength()));
    sending = false;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  /** How many queued events the next call takes: at least one, within both the count and the byte bounds. */
  function batchLength(): number {
    let bytes = 0;
    for (let i = 0; i < Math.min(queue.length, maxBatch); i++) {
      bytes += JSON.stringify(queue[i]!.event).length;
      if (i > 0 && bytes > maxBatchBytes) return i;
    }
    return Math.min(queue.length, maxBatch);
  }

  async function deliver(batch: Pending[]) {
    try {
      const published = await sendWithRetries(batch.map((pending) => pending.event));
      batch.forEach((pending, i) => pending.waiters.forEach((waiter) => waiter.resolve(published[i]!)));
    } catch (error) {
      // One bad event refuses its whole batch, and nothing of it was logged: send the others on their own.
      if (error instanceof AgentPublishError && error.code === 'BAD_USER_INPUT' && batch.length > 1) {
        for (const pending of batch) await deliver([pending]);
        return;
      }
      for (const pending of batch) pending.waiters.forEach((waiter) => waiter.reject(error));
    }
  }

  async function sendWithRetries(events: AgentEventInput[]): Promise<PublishedEvent[]> {
    const idempotencyKey = randomUUID();
    const { sessionId, requestId, agent } = options;
    for (let attempt = 1; ; attempt++) {
      try {
        return await sendBatch(options, { sessionId, requestId, agent, events, idempotencyKey });
      } catch (error) {
        if (!(error instanceof AgentPublishError) || !error.retryable || attempt >= attempts) throw error;
        const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        await sleep(error.retryAfterMs ?? backoff);
      }
    }
  }

  function flush(): Promise<void> {
    if (!sending && queue.length === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    schedule(true);
    return idle;
  }

  const methods = Object.fromEntries(
    AGENT_VARIANTS.map(({ inputField }) => [inputField!, (fields: object) => enqueue({ [inputField!]: fields } as unknown as AgentEventInput)]),
  ) as unknown as VariantMethods;

  return {
    ...methods,
    publish: enqueue,
    batch: (events) => Promise.all(events.map(enqueue)),
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}
