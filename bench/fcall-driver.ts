import { sessionKey, streamKey } from '../src/bus/redis-keys.js';
import { benchEvent, nowMs, rawEventJson } from './events.js';
import { encodeCommands, type RespPipeline } from './resp-pipeline.js';
import type { BenchSession } from './sessions.js';

/**
 * Load path (a), the durable raw path an agent on Redis uses: `FCALL apg_publish 2 <stream> <session> <json>`
 * (docs/raw-redis-format.md). Events go to the S sessions in turn, at a fixed offered rate: every 10 ms tick sends
 * what is due by then as one pipeline, so the rate holds even when ticks run late, and the replies come back without
 * holding up the next tick. The pipeline is written and read by hand (resp-pipeline.ts), not through ioredis, to
 * leave the generator's core to Redis and the browsers.
 */

/** The function agents call (docs/raw-redis-format.md): validates, appends to the history, publishes. */
const PUBLISH_FUNCTION = 'apg_publish';
const TICK_MS = 10;

export interface PacedRun {
  offeredRate: number;
  durationMs: number;
  /** FCALLs sent, and those Redis accepted (each then published once to its session's channel). */
  sent: number;
  published: number;
  /** Refused FCALLs, by the first word of the error (the code). */
  errors: Record<string, number>;
  /** Events that were due but not sent by the end: the driver (or Redis answering it) could not keep up. */
  behind: number;
  /** Sent per second over the step. */
  achievedRate: number;
}

export class FcallDriver {
  private cursor = 0;
  private eventNumber = 0;
  private readonly keys: { stream: string; session: string }[];

  constructor(
    private readonly redis: RespPipeline,
    sessions: readonly BenchSession[],
  ) {
    this.keys = sessions.map((session) => ({ stream: streamKey(session), session: sessionKey(session.sessionId) }));
  }

  /** Publishes at `rate` events/s for `durationMs`, then waits for the last replies. */
  run(step: number, rate: number, durationMs: number): Promise<PacedRun> {
    // Replies outstanding are bounded (half a second of load): a Redis that falls behind slows the driver down
    // instead of growing its queue without end; what could not be sent is reported as `behind`.
    const maxInFlight = Math.max(1_000, Math.ceil(rate / 2));
    const errors: Record<string, number> = {};
    let sent = 0;
    let published = 0;
    let inFlight = 0;
    const begin = performance.now();
    return new Promise((resolve) => {
      let stopped = false;
      let finished = false;
      // Only once the last tick has sent what was due, and every reply is in.
      const finish = () => {
        if (stopped && !finished && inFlight === 0) {
          finished = true;
          const due = Math.floor((rate * durationMs) / 1000);
          resolve({ offeredRate: rate, durationMs, sent, published, errors, behind: due - sent, achievedRate: (sent * 1000) / durationMs });
        }
      };
      const tick = () => {
        const elapsed = Math.min(performance.now() - begin, durationMs);
        const due = Math.floor((rate * elapsed) / 1000) - sent;
        const batch = Math.min(due, maxInFlight - inFlight);
        if (batch > 0) {
          sent += batch;
          inFlight += batch;
          void this.send(step, batch, errors).then((accepted) => {
            published += accepted;
            inFlight -= batch;
            finish();
          });
        }
        if (elapsed >= durationMs) {
          clearInterval(timer);
          stopped = true;
          finish();
        }
      };
      const timer = setInterval(tick, TICK_MS);
    });
  }

  /** One pipeline of `count` FCALLs; resolves with how many Redis accepted. */
  private async send(step: number, count: number, errors: Record<string, number>): Promise<number> {
    const commands: string[][] = [];
    for (let i = 0; i < count; i += 1) {
      const keys = this.keys[this.cursor]!;
      this.cursor = (this.cursor + 1) % this.keys.length;
      const json = rawEventJson(benchEvent(this.eventNumber++, step, nowMs()));
      commands.push(['FCALL', PUBLISH_FUNCTION, '2', keys.stream, keys.session, json]);
    }
    const replies = await this.redis.send(encodeCommands(commands), count);
    for (const [code, refused] of Object.entries(replies.errors)) errors[code] = (errors[code] ?? 0) + refused;
    return replies.ok;
  }
}
