// Preload for the measured gateway: once a second, appends to $APG_GC_LOG (default /tmp/apg-gc.log) the heap in use,
// the size of the young and old generations, and how many garbage collections of each kind ran and for how long.
//
//   npm run bench -- … --gateway-node-args "--import ./bench/gc-observer.mjs"
//
// Plain JavaScript, so that node loads it in front of the built gateway without a compiler. It costs the gateway
// one PerformanceObserver callback per collection and one line per second.
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.APG_GC_LOG ?? '/tmp/apg-gc.log';
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};
let second = {};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail?.kind] ?? 'other';
    const tally = (second[kind] ??= { count: 0, ms: 0 });
    tally.count += 1;
    tally.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const mb = (bytes) => (bytes / 1e6).toFixed(0);
setInterval(() => {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space]));
  const collections = Object.entries(second).map(([kind, { count, ms }]) => `${kind} ${count}× ${ms.toFixed(0)} ms`);
  const line = `${new Date().toISOString()} heap ${mb(process.memoryUsage().heapUsed)} MB, new space ${mb(spaces.new_space.space_size)} MB, old space used ${mb(spaces.old_space.space_used_size)} MB; ${collections.join(', ') || 'no collection'}`;
  appendFileSync(file, line + '\n');
  second = {};
}, 1_000).unref();
