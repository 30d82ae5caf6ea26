import type { ChildProcess } from 'node:child_process';
import { exitOf, spawnPinnedWorker, stopProcess } from './pinning.js';

/**
 * Request/response over Node's IPC channel between the orchestrator and its worker processes. A worker exposes an
 * object of async handlers; the orchestrator calls them by name. A call fails when the handler throws or the
 * worker exits first.
 */

type Handlers = Record<string, (...args: any[]) => unknown>;

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** Worker side: answers the orchestrator's calls until the channel closes, then exits. */
export function serveCalls(handlers: Handlers): void {
  if (!process.send) throw new Error('a bench worker must be started with an IPC channel (bench/pinning.ts)');
  const reply = (message: Reply) => process.send?.(message);
  process.on('message', (message: Call) => {
    const handler = handlers[message.method];
    if (!handler) return reply({ id: message.id, error: `no such method: ${message.method}` });
    Promise.resolve()
      .then(() => handler(...message.args))
      .then(
        (result) => reply({ id: message.id, result: result ?? null }),
        (error: unknown) => reply({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The orchestrator gone (finished, or crashed): nothing is left to do here.
  process.on('disconnect', () => process.exit(0));
}

/** Orchestrator side: a pinned worker process and typed calls into it. */
export class Worker<H extends Handlers> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: Reply) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting.reject(new Error(`${name}: ${message.error}`));
      else waiting.resolve(message.result);
    });
    this.exited = exitOf(child).then((code) => {
      for (const waiting of this.pending.values()) waiting.reject(new Error(`${name} exited (${code}) during a call`));
      this.pending.clear();
      return code;
    });
  }

  static start<H extends Handlers>(name: string, core: number, file: string, env: Record<string, string> = {}): Worker<H> {
    return new Worker<H>(name, spawnPinnedWorker(core, file, env));
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<M extends keyof H & string>(method: M, ...args: Parameters<H[M]>): Promise<Awaited<ReturnType<H[M]>>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, method, args } satisfies Call, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  /** Closes the channel (the worker exits by itself), then makes sure it is gone. */
  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      this.exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5_000))),
    ]);
    clearTimeout(timer);
    if (!gone) await stopProcess(this.child, 'SIGTERM', 5_000);
  }
}
