import { assertJsonWithin } from '../events/json-limits.js';
import { newId } from '../ids.js';
import { builder } from './builder.js';
import { noteCreatedIds } from './operation-ids.js';
import { ownSession } from './session-access.js';

interface AgentRequestView {
  requestId: string;
  sessionId: string;
  input: unknown;
  queuedAt: number;
}

const AgentRequest = builder.objectRef<AgentRequestView>('AgentRequest').implement({
  description: 'A request queued for the agents. Follow it with agentProgress(sessionId, requestId).',
  fields: (t) => ({
    id: t.id({ resolve: (request) => request.requestId }),
    sessionId: t.id({ resolve: (request) => request.sessionId }),
    input: t.field({ type: 'JSON', resolve: (request) => request.input }),
    queuedAt: t.field({ type: 'DateTime', resolve: (request) => new Date(request.queuedAt) }),
  }),
});

builder.mutationField('submitRequest', (t) =>
  t.field({
    type: AgentRequest,
    description: 'Assigns a request id, queues the job for the agents and logs REQUEST_QUEUED.',
    args: { sessionId: t.arg.id({ required: true }), input: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, context) => {
      const { ref } = await ownSession(context, args.sessionId);
      const { maxEventBytes } = context.services.config;
      assertJsonWithin(args.input, maxEventBytes, 'input');
      const requestId = newId();
      noteCreatedIds(context, { requestId });
      // The worker that takes the job reports progress with this token: no global agent credential needed.
      const publishToken = await context.services.publishTokens.issue(ref.sessionId, ref.userId);
      const job = {
        requestId,
        sessionId: ref.sessionId,
        userId: ref.userId,
        input: args.input,
        submittedAt: new Date().toISOString(),
        publishToken: publishToken.token,
        publishTokenExpiresAt: new Date(publishToken.expiresAt).toISOString(),
      };
      const { eventLog, metrics, log } = context.services;
      const queued = await eventLog.submitRequest(ref, { type: 'REQUEST_QUEUED', requestId, input: args.input }, job);
      metrics.countPublished('gateway', 'REQUEST_QUEUED');
      log.info({ sessionId: ref.sessionId, requestId }, 'request queued');
      return { requestId, sessionId: ref.sessionId, input: args.input, queuedAt: queued.timestamp };
    },
  }),
);
