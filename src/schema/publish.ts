import { requirePublisher } from '../auth/authorize.js';
import { gatewayError } from '../errors.js';
import type { RawEvent } from '../events/types.js';
import { assertJsonWithin } from '../events/json-limits.js';
import { validateEvent } from '../events/validation.js';
import { builder } from './builder.js';
import { AgentEvent, AgentEventInput, TYPE_OF_INPUT_FIELD } from './events.js';
import { safeId } from './session-access.js';

/** `{ progress: { percent: 40 } }` plus the envelope → `{ type: 'PROGRESS', percent: 40, … }`, the raw format. */
function toRawEvent(input: Record<string, unknown>, requestId: string | undefined, agent: string | undefined): unknown {
  const [field, fields] = Object.entries(input).find(([, value]) => value != null) ?? [];
  return { type: TYPE_OF_INPUT_FIELD.get(field ?? ''), requestId, agent, ...(fields as object) };
}

builder.mutationField('publishAgentEvent', (t) =>
  t.field({
    type: AgentEvent,
    description: 'Appends an event to the session history and delivers it to its subscribers.',
    args: {
      sessionId: t.arg.id({ required: true }),
      requestId: t.arg.id(),
      agent: t.arg.string(),
      event: t.arg({ type: AgentEventInput, required: true }),
    },
    resolve: async (_root, args, context) => {
      const { eventLog, config, metrics, log, authenticator, publishRate } = context.services;
      const sessionId = safeId(args.sessionId, 'sessionId');
      requirePublisher(context.principal, sessionId, authenticator.development);
      // After the publisher check: a caller who may not publish here cannot use up the session's allowance.
      const retryAfterMs = publishRate.take(sessionId);
      if (retryAfterMs > 0) {
        metrics.publishesRateLimited.inc();
        log.debug({ sessionId, retryAfterMs }, 'publish rate limited');
        throw gatewayError('RATE_LIMITED', `Publishing to this session is limited to ${config.publishRatePerSession} events per second.`, { retryAfterMs });
      }
      const raw = toRawEvent(args.event, args.requestId == null ? undefined : String(args.requestId), args.agent ?? undefined);
      assertJsonWithin(raw, config.maxEventBytes, 'The event');
      const validation = validateEvent(raw);
      if (!validation.ok) throw gatewayError('BAD_USER_INPUT', validation.reason);
      const session = await eventLog.getSession(sessionId);
      // A publish token outlives nothing: not a session ended and started again, under the same id, by someone else.
      const stale = context.principal.kind === 'session-publisher' && context.principal.userId !== session?.userId;
      if (!session || stale) throw gatewayError('SESSION_NOT_FOUND', 'No such session.');
      const logged = await eventLog.append({ userId: session.userId, sessionId }, validation.event as RawEvent);
      metrics.eventsPublished.inc({ path: 'mutation', type: logged.event.type });
      return logged;
    },
  }),
);
