/**
 * Redis CPU per `FCALL apg_publish`, as Redis itself counts it (INFO commandstats, usec_per_call): the load
 * generator's core pays this for every durable event, so it bounds the FCALL ladder of `npm run bench`.
 *
 *   npx tsx bench/redis-function-cost.ts            # 20,000 calls over 1,000 sessions, ~300-byte events
 */
import { Redis } from 'ioredis';
import { DEFAULT_CONFIG } from '../src/config.js';
import { buildLibrarySource } from '../src/bus/redis-library.js';
import { startRedisServer } from '../test/support/redis-server.js';

const SESSIONS = 1_000;
const ROUNDS = 20;

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  await redis.call('FUNCTION', 'LOAD', 'REPLACE', buildLibrarySource(DEFAULT_CONFIG));
  const keys = (i: number) => [`stream:user_u${i}:session_s${i}`, `session:s${i}`];
  for (let i = 0; i < SESSIONS; i++) await redis.call('FCALL', 'apg_start_session', 2, ...keys(i), `u${i}`, '{"type":"SESSION_STARTED"}');
  await redis.config('RESETSTAT');
  const event = JSON.stringify({ type: 'PROGRESS', requestId: 'r1', agent: 'planner', percent: 42, message: 'x'.repeat(200) });
  for (let round = 0; round < ROUNDS; round++) {
    const pipeline = redis.pipeline();
    for (let i = 0; i < SESSIONS; i++) pipeline.call('FCALL', 'apg_publish', 2, ...keys(i), event);
    await pipeline.exec();
  }
  const stats = (await redis.info('commandstats')).split('\n').filter((line) => /^cmdstat_(fcall|xadd|xrevrange|publish|hget):/.test(line));
  console.log(`${SESSIONS * ROUNDS} x FCALL apg_publish, ${event.length}-byte events`);
  for (const line of stats) console.log(line.trim());
} finally {
  await redis.quit();
  await server.stop();
}
