import { benchEvent, nowMs, type BenchEvent } from './events.js';
import { Histogram, summarize, type LatencySummary } from './histogram.js';
import { errorCodeOf, GraphQLHttpClient } from './http-client.js';
import type { PublishRequest } from './publish-mutations.js';
import type { BenchSession } from './sessions.js';

/**
 * Load paths (b) and (c): agents publishing through the gateway's GraphQL API over HTTP. A closed loop: each of
 * `concurrency` agents sends its next request as soon as the last one is answered, for `durationMs`, so the figure
 * is what the gateway sustains, not an offered rate. Sessions are taken in turn across all S.
 */
export interface ClosedLoopRun {
  concurrency: number;
  durationMs: number;
  /** Requests answered without error, and the events they carried. */
  calls: number;
  events: number;
  errors: Record<string, number>;
  callsPerSecond: number;
  eventsPerSecond: number;
  /** Request round trip as the agent sees it. */
  roundTrip: LatencySummary;
}

/** Turns a session and the events due for it into one request (a single publish, or a batch). */
export type RequestBuilder = (session: BenchSession, events: BenchEvent[]) => PublishRequest;

export class MutationDriver {
  private cursor = 0;
  private eventNumber = 0;
  private readonly client: GraphQLHttpClient;

  constructor(
    graphqlUrl: string,
    private readonly token: string,
    private readonly sessions: readonly BenchSession[],
    maxSockets: number,
  ) {
    this.client = new GraphQLHttpClient(graphqlUrl, maxSockets);
  }

  async run(step: number, concurrency: number, durationMs: number, eventsPerCall: number, build: RequestBuilder): Promise<ClosedLoopRun> {
    const errors: Record<string, number> = {};
    const roundTrip = new Histogram();
    let calls = 0;
    let events = 0;
    const begin = performance.now();
    const agent = async () => {
      while (performance.now() - begin < durationMs) {
        const session = this.sessions[this.cursor]!;
        this.cursor = (this.cursor + 1) % this.sessions.length;
        const batch = Array.from({ length: eventsPerCall }, () => benchEvent(this.eventNumber++, step, nowMs()));
        const { query, variables } = build(session, batch);
        const sentAt = performance.now();
        try {
          const reply = await this.client.post(this.token, query, variables);
          const code = errorCodeOf(reply);
          if (code) errors[code] = (errors[code] ?? 0) + 1;
          else {
            calls += 1;
            events += batch.length;
          }
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'REQUEST_FAILED';
          errors[code] = (errors[code] ?? 0) + 1;
        }
        roundTrip.record((performance.now() - sentAt) * 1000);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, agent));
    const elapsedMs = performance.now() - begin;
    return {
      concurrency,
      durationMs: elapsedMs,
      calls,
      events,
      errors,
      callsPerSecond: (calls * 1000) / elapsedMs,
      eventsPerSecond: (events * 1000) / elapsedMs,
      roundTrip: summarize(roundTrip),
    };
  }

  close(): void {
    this.client.close();
  }
}
