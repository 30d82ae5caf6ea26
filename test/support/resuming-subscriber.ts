import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AGENT_PROGRESS } from './operations.js';
import { Waiters } from './waiters.js';

export type ProgressEvent = Record<string, any> & { id: string; seq: number };

/**
 * What a UI does to survive losing its replica: it keeps the id of the last event it received and, when the
 * socket closes, opens a new one and resubscribes with `after` set to that id. Each reconnect goes to the next URL
 * (staying on the last), as a load balancer that no longer routes to the replica that went away would.
 */
export class ResumingSubscriber {
  readonly events: ProgressEvent[] = [];
  /** The close code that ended each connection, in order (1001: going away; 1006: the peer vanished). */
  readonly closeCodes: number[] = [];
  /** The seq of the cursor each reconnection resumed from. */
  readonly resumedFrom: number[] = [];
  /** Events received on each connection, in order. */
  readonly perConnection: number[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private client: Client | undefined;
  private disposed = false;
  private readonly waiters = new Waiters();

  constructor(
    private readonly urls: string[],
    private readonly sessionId: string,
    private readonly userId = 'alice',
  ) {}

  start(): this {
    this.connect();
    return this;
  }

  /** The last event's id: what the next subscription passes as `after`. */
  get cursor(): string | undefined {
    return this.events.at(-1)?.id;
  }

  private connect() {
    const connection = this.perConnection.push(0) - 1;
    const url = this.urls[Math.min(connection, this.urls.length - 1)]!;
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { userId: this.userId }, retryAttempts: 0, lazy: true });
    this.client = client;
    const after = this.cursor;
    client.subscribe<{ agentProgress: ProgressEvent }>(
      { query: AGENT_PROGRESS, variables: { sessionId: this.sessionId, ...(after ? { after } : {}) } },
      {
        next: (result) => {
          if (result.errors) this.errors.push(...result.errors);
          const event = result.data?.agentProgress;
          if (event) {
            this.events.push(event);
            this.perConnection[connection]!++;
          }
          this.notify();
        },
        error: (error) => {
          const code = (error as { code?: unknown } | null)?.code;
          if (typeof code === 'number') {
            // The socket closed under us: resume on the next replica from the cursor.
            this.closeCodes.push(code);
            this.resumedFrom.push(this.events.at(-1)?.seq ?? 0);
            void client.dispose();
            if (!this.disposed) this.connect();
          } else {
            this.errors.push(error);
          }
          this.notify();
        },
        complete: () => {
          this.completed = true;
          this.notify();
        },
      },
    );
  }

  private notify() {
    this.waiters.notify();
  }

  /** Resolves once `ready()` holds; rejects on an error, a completion, or after `timeoutMs` (a stuck test). */
  until(ready: (subscriber: this) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return this.waiters.until(
      () =>
        ready(this)
          ? { value: undefined }
          : this.errors.length > 0 || this.completed
            ? { error: new Error(`before ${what}: ${this.summary()}`) }
            : undefined,
      { ms: timeoutMs, message: () => `timed out waiting for ${what}: ${this.summary()}` },
    );
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.client?.dispose();
  }

  private summary() {
    return `${this.events.length} events (last seq ${this.events.at(-1)?.seq}), closes ${JSON.stringify(this.closeCodes)}, errors ${JSON.stringify(this.errors)}`;
  }
}
