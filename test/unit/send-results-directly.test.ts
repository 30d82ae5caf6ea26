import { randomUUID } from 'node:crypto';
import { GraphQLError, Kind, type ExecutionResult } from 'graphql';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryEventLog } from '../../src/bus/memory.js';
import type { SessionRef } from '../../src/events/types.js';
import { sendResultsDirectly, type StreamErrors } from '../../src/plugins/send-results-directly.js';
import type { OperationArgs } from '../../src/schema/operation-ids.js';
import { followSession, type FollowItem } from '../../src/progress/follow-session.js';

/** Resolves after `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function setUp() {
  const log = createMemoryEventLog({ historyMaxEvents: 1_000, sessionTtlMs: 60_000, maxEventBytes: 65_536, maxPublishBatch: 100, idempotencyWindowMs: 60_000 });
  onTestFinished(() => log.close());
  const ref: SessionRef = { userId: 'alice', sessionId: `s-${randomUUID()}` };
  await log.startSession(ref, { type: 'SESSION_STARTED' });
  const follower = followSession(log, ref, { pageSize: 10, maxBuffered: 100, idleCheckMs: 60_000 });
  const append = (percent: number) => log.append(ref, { type: 'PROGRESS', percent });
  return { log, ref, follower, append };
}

/** Executes an event as `{ data: { seq } }`; percent 13 makes a result with an error, as a failing resolver would. */
const execution = {
  execute(event: unknown): ExecutionResult {
    const item = event as FollowItem;
    if ('error' in item) return { errors: [item.error] };
    if (item.event['percent'] === 13) return { data: null, errors: [new GraphQLError('unlucky')] };
    return { data: { seq: item.seq } };
  },
};

/** The operation the streams below run for, and errors passed on as they are (the policy is tested on its own). */
const OPERATION: OperationArgs = { document: { kind: Kind.DOCUMENT, definitions: [] }, operationName: 'Follow' };
const AS_THEY_ARE: StreamErrors = { result: (_args, result) => result, thrown: (_args, error) => error };

/** A send whose promises the test settles, recording what was sent in order. */
function controlledSend() {
  const sent: number[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let hold = false;
  const send = (result: ExecutionResult) => {
    sent.push((result.data as { seq: number }).seq);
    if (!hold) return Promise.resolve();
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return {
    send,
    sent,
    pending,
    holdSends(on: boolean) {
      hold = on;
    },
  };
}

/** A direct stream over a new session's follower, its first next() pending: caught up and waiting for live events. */
async function waitingStream() {
  const { follower, append } = await setUp();
  const sender = controlledSend();
  const stream = sendResultsDirectly(follower, execution, sender, AS_THEY_ARE, OPERATION);
  const next = stream.next();
  await turns(3);
  return { follower, append, sender, stream, next };
}

describe('sendResultsDirectly', () => {
  it('sends error-free results itself, in order, taking live events as they arrive; yields only results with errors', async () => {
    const { follower, append } = await setUp();
    const { send, sent } = controlledSend();
    const stream = sendResultsDirectly(follower, execution, { send }, AS_THEY_ARE, OPERATION);
    let yielded: IteratorResult<ExecutionResult> | undefined;
    const next = stream.next().then((result) => (yielded = result));
    await append(1); // seq 2
    await append(2); // seq 3
    await turns(3);
    expect(sent).toEqual([1, 2, 3]); // SESSION_STARTED from history, then both live
    expect(yielded).toBeUndefined();
    await append(13); // seq 4: its result has errors
    await next;
    expect(yielded).toMatchObject({ done: false, value: { errors: [{ message: 'unlucky' }] } });
    await append(5); // seq 5, after the error result was handed on
    const after = stream.next();
    await turns(3);
    expect(sent).toEqual([1, 2, 3, 5]);
    await stream.return();
    expect(await after).toEqual({ done: true, value: undefined });
  });

  it('takes the next event through the follower, behind it, while a live send has not left yet', async () => {
    const { append, sender, stream, next } = await waitingStream();
    sender.holdSends(true);
    await append(1); // seq 2: taken live, its send held
    await append(2); // seq 3: declined (a send is leaving), goes through next(), whose send is held too
    await append(3); // seq 4, 5: wait in the follower's bounded buffer, not in the socket's
    await append(4);
    await turns(3);
    expect(sender.sent).toEqual([1, 2, 3]); // in order: 3 was handed on after 2
    sender.holdSends(false);
    for (const held of sender.pending) held.resolve();
    await turns(5);
    expect(sender.sent).toEqual([1, 2, 3, 4, 5]);
    await append(5); // seq 6: taken live again
    await turns(3);
    expect(sender.sent).toEqual([1, 2, 3, 4, 5, 6]);
    await stream.return();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('ends the operation with the error of a live send that failed, and stops following', async () => {
    const { append, sender, next } = await waitingStream();
    sender.holdSends(true);
    await append(1); // seq 2, taken live
    sender.pending[0]!.reject(new Error('socket gone'));
    await expect(next).rejects.toThrow('socket gone');
    await append(2);
    await turns(3);
    expect(sender.sent).toEqual([1, 2]);
  });

  it('return() while waiting for an event ends the follower at once', async () => {
    const { follower, stream, next } = await waitingStream();
    await stream.return();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(await follower.next()).toEqual({ done: true, value: undefined });
  });

  it('hands results with errors, a failed send and what the source throws to its StreamErrors, with the operation', async () => {
    const seen: string[] = [];
    const errors: StreamErrors = {
      result(operation, result) {
        seen.push(`result of ${operation.operationName}: ${result.errors?.[0]?.message}`);
        return { data: null, errors: [new GraphQLError('masked')] };
      },
      thrown(operation, error) {
        seen.push(`thrown by ${operation.operationName}: ${(error as Error).message}`);
        return new Error('masked too');
      },
    };
    const { follower, append } = await setUp();
    const sender = controlledSend();
    const stream = sendResultsDirectly(follower, execution, sender, errors, OPERATION);
    const next = stream.next();
    await append(13); // seq 2: its result has errors
    expect(await next).toEqual({ done: false, value: { data: null, errors: [new GraphQLError('masked')] } });
    // A send that fails ends the operation with what the policy makes of its error.
    sender.holdSends(true);
    const failing = stream.next();
    await append(1); // seq 3
    await turns(3);
    sender.pending[0]!.reject(new Error('socket gone'));
    await expect(failing).rejects.toThrow('masked too');
    expect(seen).toEqual(['result of Follow: unlucky', 'thrown by Follow: socket gone']);

    // A source that throws.
    const broken: AsyncIterator<unknown> = { next: () => Promise.reject(new TypeError('source exploded')) };
    await expect(sendResultsDirectly(broken, execution, sender, errors, OPERATION).next()).rejects.toThrow('masked too');
    expect(seen.at(-1)).toBe('thrown by Follow: source exploded');
  });
});
