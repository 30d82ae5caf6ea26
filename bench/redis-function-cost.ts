/**
 * Redis CPU per `FCALL apg_publish`, as Redis itself counts it (INFO commandstats, usec_per_call): the load
 * generator's core pays this for every durable event, so it bounds the FCALL ladder of `npm run bench`, and it is
 * what a Redis shard spends per durable event (bench/README.md, scale-out).
 *
 *   npx tsx bench/redis-function-cost.ts            # 5 runs of 20,000 calls over 1,000 sessions, ~300-byte events
 *
 * Each run gives one figure; the median of the runs is printed with all of them (this VM moves by 10–20 % from
 * one run to the next). Each session receives 20 events back to back, as during a burst of an agent's run.
 */
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/support/redis-server.js';
import { benchRawEvents, sessionKeys, startFunctionSessions } from './function-sessions.js';

const SESSIONS = 1_000;
const ROUNDS = 20;
const RUNS = 5;

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const events = benchRawEvents();
  const perCall: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await startFunctionSessions(redis, SESSIONS);
    await redis.config('RESETSTAT');
    for (let round = 0; round < ROUNDS; round++) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < SESSIONS; i++) pipeline.call('FCALL', 'apg_publish', 2, ...sessionKeys(i), events[(i + round) % events.length]!);
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error);
      if (failed) throw failed[0];
    }
    const stats = await redis.info('commandstats');
    perCall.push(Number(/^cmdstat_fcall:.*usec_per_call=([\d.]+)/m.exec(stats)?.[1]));
    if (run === RUNS - 1) {
      console.log(`${SESSIONS * ROUNDS} x FCALL apg_publish per run, events of ${events.map((e) => e.length).join(', ')} bytes; the last run's commands:`);
      for (const line of stats.split('\n').filter((l) => /^cmdstat_/.test(l))) console.log(`  ${line.trim()}`);
    }
  }
  const sorted = [...perCall].sort((a, b) => a - b);
  console.log(`usec per FCALL apg_publish: median ${sorted[Math.floor(RUNS / 2)]} (runs: ${perCall.join(', ')})`);
} finally {
  await redis.quit();
  await server.stop();
}
