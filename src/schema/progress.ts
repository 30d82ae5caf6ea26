import type { FollowItem } from '../progress/follow-session.js';
import { builder } from './builder.js';
import { AgentEvent } from './events.js';
import { followProgress, PAGE_SIZE } from './follow-progress.js';
import { afterSeq, checkCursor, ownSession, safeId } from './session-access.js';

const MAX_QUERY_EVENTS = 1_000;

builder.queryField('agentEvents', (t) =>
  t.field({
    type: [AgentEvent],
    description: `The history of one of your sessions after a cursor, oldest first; at most ${MAX_QUERY_EVENTS} per call.`,
    args: {
      sessionId: t.arg.id({ required: true }),
      requestId: t.arg.id({ description: 'Only this request’s events.' }),
      after: t.arg.id({ description: 'The id of the last event you have; omit to start from the oldest retained.' }),
      first: t.arg.int({ defaultValue: 100, description: `How many events at most (1–${MAX_QUERY_EVENTS}).` }),
    },
    resolve: async (_root, args, context) => {
      const { ref } = await ownSession(context, args.sessionId);
      const first = Math.min(Math.max(args.first ?? 100, 1), MAX_QUERY_EVENTS);
      const requestId = args.requestId == null ? undefined : safeId(args.requestId, 'requestId');
      let after = afterSeq(args.after);
      const found = [];
      for (;;) {
        const page = await context.services.eventLog.read(ref, after ?? 0, PAGE_SIZE);
        if (found.length === 0) checkCursor(page, after);
        for (const event of page.events) {
          if (!requestId || event.event.requestId === requestId) found.push(event);
          if (found.length === first) return found;
        }
        if (page.events.length < PAGE_SIZE) return found;
        after = page.events.at(-1)!.seq;
      }
    },
  }),
);

builder.subscriptionField('agentProgress', (t) =>
  t.field({
    type: AgentEvent,
    description:
      'Your session’s events: the retained history after `after` (all of it without), then live, each exactly once in seq order. ' +
      'With requestId, only that request’s events, completing after its RUN_FINISHED or RUN_FAILED. Completes when the session ends.',
    args: {
      sessionId: t.arg.id({ required: true }),
      requestId: t.arg.id(),
      after: t.arg.id({ description: 'The id of the last event you have, to resume right after it.' }),
    },
    subscribe: (_root, args, context) => followProgress(context, args),
    resolve: (item: FollowItem) => {
      if ('error' in item) throw item.error;
      return item;
    },
  }),
);
