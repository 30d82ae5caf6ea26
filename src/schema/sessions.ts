import { requireUser } from '../auth/authorize.js';
import type { PublishToken } from '../auth/publish-tokens.js';
import type { SessionRecord } from '../bus/event-log.js';
import { gatewayError } from '../errors.js';
import { newId } from '../ids.js';
import { builder } from './builder.js';
import type { GatewayContext } from './context.js';
import { noteCreatedIds } from './operation-ids.js';
import { ownSession, safeId } from './session-access.js';

interface SessionView extends SessionRecord {
  status: 'ACTIVE' | 'ENDED';
  expiresAt: number | null;
}

const SessionStatus = builder.enumType('SessionStatus', {
  values: {
    ACTIVE: { description: 'Open: events can be published and followed.' },
    ENDED: { description: 'Ended by endSession; its history is deleted.' },
  },
});

const PublishTokenType = builder.objectRef<PublishToken>('PublishToken').implement({
  description:
    'A credential for agents scoped to one session: it lets its bearer publish to that session and nothing else. ' +
    'submitRequest also puts one into the queued job.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send as `Authorization: Bearer <token>`.' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (token) => new Date(token.expiresAt) }),
  }),
});

const Session = builder.objectRef<SessionView>('Session').implement({
  description: 'A conversation of one user with the agents; its events form one ordered history.',
  fields: (t) => ({
    id: t.id({ resolve: (session) => session.sessionId }),
    status: t.field({ type: SessionStatus, resolve: (session) => session.status }),
    createdAt: t.field({ type: 'DateTime', resolve: (session) => new Date(session.createdAt) }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the last event was logged.', resolve: (session) => new Date(session.updatedAt) }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the session expires unless another event arrives first.',
      resolve: (session) => (session.expiresAt === null ? null : new Date(session.expiresAt)),
    }),
    publishToken: t.field({
      type: PublishTokenType,
      nullable: true,
      description: 'A fresh publish token for this session, for the agents working on it; null once it has ended.',
      resolve: (session, _args, context) =>
        session.status === 'ACTIVE' ? context.services.publishTokens.issue(session.sessionId, session.userId) : null,
    }),
  }),
});

function active(record: SessionRecord, context: GatewayContext): SessionView {
  return { ...record, status: 'ACTIVE', expiresAt: record.updatedAt + context.services.config.sessionTtlMs };
}

builder.queryField('session', (t) =>
  t.field({
    type: Session,
    nullable: true,
    description: 'One of your sessions; null when it does not exist, has ended, or is not yours.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const userId = requireUser(context.principal);
      const record = await context.services.eventLog.getSession(safeId(id, 'id'));
      return record && record.userId === userId ? active(record, context) : null;
    },
  }),
);

builder.mutationField('startSession', (t) =>
  t.field({
    type: Session,
    description:
      'Starts a session owned by the caller. A client may bring its own id (e.g. one it already traces with); ' +
      'starting an id you already own returns that session unchanged.',
    args: { sessionId: t.arg.id() },
    resolve: async (_root, { sessionId }, context) => {
      const ref = { userId: requireUser(context.principal), sessionId: sessionId == null ? newId() : safeId(sessionId, 'sessionId') };
      const { eventLog, metrics, log } = context.services;
      noteCreatedIds(context, { sessionId: ref.sessionId });
      const result = await eventLog.startSession(ref, { type: 'SESSION_STARTED' });
      if (result.outcome === 'taken') throw gatewayError('SESSION_ID_TAKEN', 'Another user has a session with this id; choose another.');
      if (result.outcome === 'created') {
        metrics.countPublished('gateway', 'SESSION_STARTED');
        log.info({ sessionId: ref.sessionId }, 'session started');
      }
      return active(result.session, context);
    },
  }),
);

builder.mutationField('endSession', (t) =>
  t.field({
    type: Session,
    description: "Ends a session: delivers SESSION_ENDED, completes its subscriptions and deletes its history.",
    args: { sessionId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const { ref, record } = await ownSession(context, args.sessionId);
      const { eventLog, metrics, log } = context.services;
      const ended = await eventLog.endSession(ref, { type: 'SESSION_ENDED', reason: 'ENDED' });
      metrics.countPublished('gateway', 'SESSION_ENDED');
      log.info({ sessionId: ref.sessionId }, 'session ended');
      return { ...record, updatedAt: ended.timestamp, status: 'ENDED' as const, expiresAt: null };
    },
  }),
);
