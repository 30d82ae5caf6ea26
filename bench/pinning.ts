import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Every benchmark process runs pinned to one core with `taskset`, so the measured server has a core of its own and
 * the load generator (subscribers, drivers, Redis) another. `taskset -c N cmd` execs `cmd`: the pid we get back is
 * the pinned process itself, which is what /proc is read for.
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The cores this process may run on (from `taskset -p`), e.g. [0, 1]. */
export function allowedCores(): number[] {
  const out = execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  const cores: number[] = [];
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map(Number);
    for (let core = from!; core <= (to ?? from!); core += 1) cores.push(core);
  }
  return cores;
}

/** Moves an already running process (all its threads) to `core`: the orchestrator pins itself with this. */
export function pinProcess(pid: number, core: number): void {
  execFileSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' });
}

/** Starts `command` pinned to `core` from its first instruction. */
export function spawnPinned(core: number, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('taskset', ['-c', String(core), command, ...args], { cwd: ROOT, ...options });
}

/**
 * Starts a TypeScript file of bench/ as a Node process pinned to `core`, with an IPC channel (`process.send`):
 * workers take their orders from the orchestrator over it. stdout/stderr are passed through.
 */
export function spawnPinnedWorker(core: number, file: string, env: Record<string, string> = {}): ChildProcess {
  return spawnPinned(core, process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Resolves with the exit code once `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still there. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
