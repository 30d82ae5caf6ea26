import { requirePublisher } from '../auth/authorize.js';
import type { SessionEvent } from '../events/types.js';
import { gatewayError } from '../errors.js';
import { assertIdempotencyKey } from '../events/idempotency.js';
import type { RawEvent } from '../events/types.js';
import { assertJsonWithin } from '../events/json-limits.js';
import { validateOwnedEvent } from '../events/fast-validation.js';
import { builder } from './builder.js';
import type { GatewayContext } from './context.js';
import { AgentEvent, AgentEventInput, TYPE_OF_INPUT_FIELD } from './events.js';
import { safeId } from './session-access.js';

/** `{ progress: { percent: 40 } }` plus the envelope → `{ type: 'PROGRESS', percent: 40, … }`, the raw format. */
function toRawEvent(input: Record<string, unknown>, requestId: string | undefined, agent: string | undefined): unknown {
  const [field, fields] = Object.entries(input).find(([, value]) => value != null) ?? [];
  // Absent envelope fields are left out rather than undefined, which the one-pass validator leaves to zod.
  return { type: TYPE_OF_INPUT_FIELD.get(field ?? ''), ...(requestId === undefined ? {} : { requestId }), ...(agent === undefined ? {} : { agent }), ...(fields as object) };
}

interface PublishArgs {
  sessionId: string | number;
  requestId?: string | number | null;
  agent?: string | null;
  idempotencyKey?: string | null;
}

/**
 * What both publish mutations do: authorize, rate-limit (a batch counts its events), validate every event before
 * anything is written, then append them atomically — or, for a retried idempotency key, answer the original events.
 */
async function publishEvents(context: GatewayContext, args: PublishArgs, inputs: Record<string, unknown>[]): Promise<SessionEvent[]> {
  const { eventLog, config, metrics, log, authenticator, publishRate } = context.services;
  const sessionId = safeId(args.sessionId, 'sessionId');
  requirePublisher(context.principal, sessionId, authenticator.development);
  if (inputs.length > config.maxPublishBatch) {
    throw gatewayError('BATCH_TOO_LARGE', `A batch holds at most ${config.maxPublishBatch} events, got ${inputs.length}.`);
  }
  if (inputs.length === 0) throw gatewayError('BAD_USER_INPUT', 'events: a batch needs at least one event.');
  if (args.idempotencyKey != null) assertIdempotencyKey(args.idempotencyKey);
  // After the publisher check: a caller who may not publish here cannot use up the session's allowance.
  const retryAfterMs = publishRate.take(sessionId, inputs.length);
  if (retryAfterMs > 0) {
    metrics.publishesRateLimited.inc();
    log.debug({ sessionId, retryAfterMs }, 'publish rate limited');
    throw gatewayError('RATE_LIMITED', `Publishing to this session is limited to ${config.publishRatePerSession} events per second.`, { retryAfterMs });
  }
  const requestId = args.requestId == null ? undefined : String(args.requestId);
  const events = inputs.map((input, i) => {
    const label = inputs.length > 1 ? `events[${i}]: ` : '';
    const raw = toRawEvent(input, requestId, args.agent ?? undefined);
    assertJsonWithin(raw, config.maxEventBytes, `${label}The event`);
    const validation = validateOwnedEvent(raw, true);
    if (!validation.ok) throw gatewayError('BAD_USER_INPUT', label + validation.reason);
    return validation.event as RawEvent;
  });
  const session = await eventLog.getSession(sessionId);
  // A publish token outlives nothing: not a session ended and started again, under the same id, by someone else.
  const stale = context.principal.kind === 'session-publisher' && context.principal.userId !== session?.userId;
  if (!session || stale) throw gatewayError('SESSION_NOT_FOUND', 'No such session.');
  const appended = await eventLog.appendAll({ userId: session.userId, sessionId }, events, args.idempotencyKey ?? undefined);
  if (appended.replayed) metrics.publishesReplayed.inc();
  else for (const logged of appended.events) metrics.countPublished('mutation', logged.event.type);
  return appended.events;
}

const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes retries safe: within the idempotency window (`IDEMPOTENCY_WINDOW_SECONDS`, default 600) a publish with a ' +
  'key this session has seen answers the original events instead of appending them again. 1–128 characters of ' +
  '`A-Z a-z 0-9 _ . : -` (a UUID fits). Reusing a key for other events is refused with `IDEMPOTENCY_KEY_REUSED`.';

builder.mutationField('publishAgentEvent', (t) =>
  t.field({
    type: AgentEvent,
    description: 'Appends an event to the session history and delivers it to its subscribers.',
    args: {
      sessionId: t.arg.id({ required: true }),
      requestId: t.arg.id(),
      agent: t.arg.string(),
      event: t.arg({ type: AgentEventInput, required: true }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: async (_root, args, context) => (await publishEvents(context, args, [args.event]))[0]!,
  }),
);

builder.mutationField('publishAgentEvents', (t) =>
  t.field({
    type: [AgentEvent],
    description:
      'Appends several events at once (a burst of deltas, a replayed log): all or none, with consecutive seqs, ' +
      'delivered in order. At most `MAX_PUBLISH_BATCH` (default 100); each counts against the publish rate.',
    args: {
      sessionId: t.arg.id({ required: true }),
      requestId: t.arg.id({ description: 'Applies to every event of the batch.' }),
      agent: t.arg.string({ description: 'Applies to every event of the batch.' }),
      events: t.arg({ type: [AgentEventInput], required: true }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: (_root, args, context) => publishEvents(context, args, args.events),
  }),
);
