/**
 * Redis instructions per `FCALL apg_publish`, counted by valgrind's callgrind: unlike the CPU time of
 * redis-function-cost.ts, the count is the same from run to run, so a change to the Function shows its effect
 * beyond this VM's noise. Needs valgrind (Debian's package); takes about a minute.
 *
 *   npx tsx bench/redis-function-instructions.ts
 *
 * Two runs of redis-server under callgrind, alike but for the number of publishes (FEW, MANY); the difference of
 * their instruction totals, divided by the difference of the publishes, is what one publish costs, start-up,
 * library load and session set-up cancelled out. Each of the SESSIONS sessions gets its events back to back.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/support/redis-server.js';
import { benchRawEvents, sessionKeys, startFunctionSessions } from './function-sessions.js';

const SESSIONS = 200;
const FEW = 1_000;
const MANY = 5_000;

async function instructionsFor(publishes: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'apg-callgrind-'));
  const server = await startRedisServer({ wrapper: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out')}`] });
  const redis = new Redis(server.url);
  try {
    await startFunctionSessions(redis, SESSIONS);
    const events = benchRawEvents();
    const pipeline = redis.pipeline();
    for (let n = 0; n < publishes; n++) pipeline.call('FCALL', 'apg_publish', 2, ...sessionKeys(n % SESSIONS), events[n % events.length]!);
    const failed = (await pipeline.exec())?.find(([error]) => error);
    if (failed) throw failed[0];
  } finally {
    redis.disconnect();
    await server.stop();
  }
  const out = readdirSync(dir).find((name) => name.startsWith('callgrind.out'));
  const totals = out && /^totals: (\d+)/m.exec(readFileSync(join(dir, out), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  if (!totals) throw new Error('callgrind wrote no totals');
  return Number(totals[1]);
}

const few = await instructionsFor(FEW);
const many = await instructionsFor(MANY);
console.log(`instructions per FCALL apg_publish: ${Math.round((many - few) / (MANY - FEW))} (${FEW} publishes: ${few}, ${MANY}: ${many})`);
