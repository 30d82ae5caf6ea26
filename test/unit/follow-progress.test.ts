import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EventLog } from '../../src/bus/event-log.js';
import { createMemoryEventLog } from '../../src/bus/memory.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { cursorOf } from '../../src/events/types.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { GatewayContext, GatewayServices } from '../../src/schema/context.js';
import { followProgress } from '../../src/schema/follow-progress.js';

/** Alice's context over a memory log whose history reads are counted. */
async function setUp() {
  const inner = createMemoryEventLog({ historyMaxEvents: 100, sessionTtlMs: 60_000, maxEventBytes: 65_536, maxPublishBatch: 100, idempotencyWindowMs: 60_000 });
  onTestFinished(() => inner.close());
  const reads: number[] = [];
  const eventLog: EventLog = {
    ...inner,
    read(ref, afterSeq, limit) {
      reads.push(afterSeq);
      return inner.read(ref, afterSeq, limit);
    },
  };
  const sessionId = `s-${randomUUID()}`;
  await inner.startSession({ userId: 'alice', sessionId }, { type: 'SESSION_STARTED' });
  await inner.append({ userId: 'alice', sessionId }, { type: 'PROGRESS', percent: 10 });
  const services = { config: DEFAULT_CONFIG, eventLog, log: createLogger({ level: 'silent', pretty: false }), metrics: createMetrics() } as unknown as GatewayServices;
  const context: GatewayContext = { principal: { kind: 'user', userId: 'alice' }, services };
  return { context, sessionId, reads };
}

describe('followProgress', () => {
  it('reads no history before subscribing when there is no cursor to check', async () => {
    const { context, sessionId, reads } = await setUp();
    const stream = await followProgress(context, { sessionId });
    expect(reads).toEqual([]);
    const first = await stream.next();
    expect(first.value).toMatchObject({ seq: 1 });
    expect(reads).toEqual([0]); // the follower's own first page
    await stream.return?.();
  });

  it('checks a cursor up front: beyond the last event is INVALID_CURSOR before any event', async () => {
    const { context, sessionId, reads } = await setUp();
    await expect(followProgress(context, { sessionId, after: cursorOf(99) })).rejects.toMatchObject({ extensions: { code: 'INVALID_CURSOR' } });
    const stream = await followProgress(context, { sessionId, after: cursorOf(1) });
    expect(reads).toEqual([99, 1]);
    expect((await stream.next()).value).toMatchObject({ seq: 2 });
    await stream.return?.();
  });
});
