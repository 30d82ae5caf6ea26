/**
 * CPU per delivered frame when several subscribers follow one session with the same subscription document: each
 * event executed and serialized once for all of them (src/plugins/shared-execution.ts) against once per
 * subscriber. In-process: the compiled selection set, the result's JSON and the frame, no sockets. The load
 * benchmark has one subscriber per session and cannot show this.
 *
 *   npx tsx bench/shared-execution-cost.ts
 */
import { parse, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { parseChannelMessage } from '../src/bus/channel-message.js';
import { CompiledExecution } from '../src/plugins/compiled-execution.js';
import { SharedExecution } from '../src/plugins/shared-execution.js';
import { schema } from '../src/schema/index.js';
import { NextFrames } from '../src/ws/result-frames.js';
import { benchEvent, rawEventJson } from './events.js';
import { SUBSCRIPTION_DOCUMENTS } from './selection-sets.js';

const now = Date.now();
const EVENTS = Array.from({ length: 3_000 }, (_, i) => {
  const read = parseChannelMessage('s1', `${rawEventJson(benchEvent(i, 1, now + i)).slice(0, -1)},"$seq":${i + 1},"$ts":${now + i}}`, 65_536);
  if (!read.ok) throw new Error(read.reason);
  return read.event;
});
const compiledQuery = compileQuery(schema, parse(SUBSCRIPTION_DOCUMENTS[0]!));
if (!isCompiledQuery(compiledQuery)) throw new Error('not compiled');
const query: CompiledQuery = compiledQuery;

/** CPU µs per frame for `subscribers` per event; `sharing` says whether they share one execution. */
function cost(subscribers: number, sharing: boolean, events: number): number {
  const operation = { query, shared: new SharedExecution(), source: undefined };
  const perSubscriber = Array.from({ length: subscribers }, (_, i) => ({
    execution: new CompiledExecution(operation, {}, sharing ? { sessionId: 's1' } : { sessionId: 's1', i }),
    frames: new NextFrames(String(i + 1), async () => {}),
  }));
  let bytes = 0;
  const start = process.cpuUsage();
  for (let n = 0; n < events; n++) {
    const event = EVENTS[n % EVENTS.length];
    for (const subscriber of perSubscriber) bytes += subscriber.frames.frame(subscriber.execution.execute(event) as ExecutionResult).length;
  }
  const used = process.cpuUsage(start);
  if (bytes === 0) throw new Error('nothing framed');
  return (used.user + used.system) / (events * subscribers);
}

console.log('document "Timeline" (every envelope field and most variants), ~330-character events');
for (const subscribers of [1, 2, 3, 5]) {
  for (const sharing of [false, true]) {
    cost(subscribers, sharing, 20_000); // warm-up
    const best = Math.min(...Array.from({ length: 5 }, () => cost(subscribers, sharing, 100_000)));
    console.log(`${subscribers} subscriber(s) per session, ${sharing ? 'shared  ' : 'separate'}: ${best.toFixed(2)} µs per frame`);
  }
}
