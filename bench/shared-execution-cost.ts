/**
 * CPU per delivered frame when several subscribers follow one session with the same subscription document: each
 * event executed and serialized once for all of them (src/plugins/shared-execution.ts) against once per
 * subscriber. In-process: the compiled selection set, the result's JSON and the frame, no sockets. The load
 * benchmark has one subscriber per session and cannot show this.
 *
 *   npx tsx bench/shared-execution-cost.ts
 */
import { parse, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { parseChannelMessage } from '../src/bus/channel-message.js';
import { SharedExecution } from '../src/plugins/shared-execution.js';
import { schema } from '../src/schema/index.js';
import { nextFrames } from '../src/ws/result-frames.js';
import { benchEvent, rawEventJson } from './events.js';
import { SUBSCRIPTION_DOCUMENTS } from './selection-sets.js';

const now = Date.now();
const EVENTS = Array.from({ length: 3_000 }, (_, i) => {
  const read = parseChannelMessage('s1', `${rawEventJson(benchEvent(i, 1, now + i)).slice(0, -1)},"$seq":${i + 1},"$ts":${now + i}}`, 65_536);
  if (!read.ok) throw new Error(read.reason);
  return read.event;
});
const query = compileQuery(schema, parse(SUBSCRIPTION_DOCUMENTS[0]!));
if (!isCompiledQuery(query)) throw new Error('not compiled');
const variables = { sessionId: 's1' };
const execute = (event: unknown) => query.query(event, {}, variables) as ExecutionResult;

/** CPU µs per frame for `subscribers` per event; `sharing` says whether they share one execution. */
function cost(subscribers: number, sharing: boolean, events: number): number {
  const shared = new SharedExecution();
  const perSubscriber = Array.from({ length: subscribers }, (_, i) => ({
    execute: shared.forSubscription(sharing ? '{"sessionId":"s1"}' : `{"sessionId":"s1","i":${i}}`, execute),
    frame: nextFrames(String(i + 1)),
  }));
  let bytes = 0;
  const start = process.cpuUsage();
  for (let n = 0; n < events; n++) {
    const event = EVENTS[n % EVENTS.length];
    for (const subscriber of perSubscriber) bytes += subscriber.frame(subscriber.execute(event) as ExecutionResult).length;
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
