/**
 * CPU per channel message as the gateway reads it (`parseChannelMessage`: JSON.parse, then the fast check of
 * src/events/fast-validation.ts), against the zod validation that was the only check before it (and is still the
 * fallback that words every refusal), and against JSON.parse alone, the floor. ~330-character messages like the
 * load benchmark's (`bench/events.ts`) with the `$seq`/`$ts` envelope. Also `validateOwnedEvent`, which history
 * entries and published events go through: the same fast check, zod behind it.
 *
 *   npx tsx bench/channel-message-cost.ts
 */
import { parseChannelMessage } from '../src/bus/channel-message.js';
import { validateOwnedEvent } from '../src/events/fast-validation.js';
import { anyEventSchema, validateEvent } from '../src/events/validation.js';
import { benchEvent, rawEventJson } from './events.js';

const now = Date.now();
const MESSAGES = Array.from({ length: 3_000 }, (_, i) => `${rawEventJson(benchEvent(i, 1, now + i)).slice(0, -1)},"$seq":${i + 1},"$ts":${now + i}}`);

const ways: Record<string, (text: string) => unknown> = {
  'JSON.parse alone': (text) => JSON.parse(text),
  'parseChannelMessage (fast check)': (text) => {
    const read = parseChannelMessage('s1', text, 65_536);
    if (!read.ok) throw new Error(read.reason);
    return read;
  },
  'JSON.parse + validateOwnedEvent': (text) => {
    const { $seq: _seq, $ts: _ts, ...raw } = JSON.parse(text) as Record<string, unknown>;
    const validation = validateOwnedEvent(raw, false);
    if (!validation.ok) throw new Error(validation.reason);
    return validation;
  },
  'JSON.parse + zod (validateEvent)': (text) => {
    const { $seq: _seq, $ts: _ts, ...raw } = JSON.parse(text) as Record<string, unknown>;
    const validation = validateEvent(raw, anyEventSchema);
    if (!validation.ok) throw new Error(validation.reason);
    return validation;
  },
};

/** CPU µs per message (user + system: time spent descheduled on a shared machine is not counted). */
function cost(read: (text: string) => unknown, iterations: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) read(MESSAGES[i % MESSAGES.length]!);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

console.log(`${MESSAGES.length} distinct messages, ${Math.round(MESSAGES.reduce((n, m) => n + m.length, 0) / MESSAGES.length)} characters on average`);
for (const [name, read] of Object.entries(ways)) {
  cost(read, 50_000); // warm-up: optimized code before measuring
  const rounds = Array.from({ length: 5 }, () => cost(read, 200_000));
  console.log(`${name.padEnd(34)} best of 5: ${Math.min(...rounds).toFixed(2)} µs per message`);
}
