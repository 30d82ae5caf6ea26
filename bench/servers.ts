import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, ROOT, spawnPinned, stopProcess } from './pinning.js';
import { freePort } from './redis.js';
import { BENCH_JWT_SECRET, BENCH_PUBLISH_TOKEN_SECRET } from './tokens.js';

/**
 * The two measured servers, each started pinned to the server core: the gateway as it ships (built, production
 * mode, authentication on) and the raw relay baseline (bench/raw-relay.ts).
 */
export interface MeasuredServer {
  kind: 'gateway' | 'relay';
  pid: number;
  wsUrl: string;
  /** The gateway's HTTP GraphQL endpoint (the relay has none). */
  graphqlUrl?: string;
  /** The gateway's Prometheus metrics (the relay has none). */
  metricsUrl?: string;
  /** The last lines the server wrote (warnings and errors: the gateway logs at `warn`). */
  output: string[];
  /** Lines written in all. */
  outputLines(): number;
  stop(): Promise<number | null>;
}

const KEEP_LINES = 200;

function collectOutput(child: ChildProcess) {
  const output: string[] = [];
  let lines = 0;
  let partial = '';
  const onData = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines += 1;
      output.push(line);
      if (output.length > KEEP_LINES) output.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { output, lines: () => lines };
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const BUILT_MAIN = join(ROOT, 'dist/src/main.js');

/**
 * The node flags the Dockerfile's CMD starts the gateway with (its last `CMD ["node", …flags, "dist/src/main.js"]`):
 * the bench measures the gateway as it is deployed.
 */
export function deployedNodeFlags(): string[] {
  const command = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .at(-1);
  const argv = command ? (JSON.parse(command.slice(4)) as string[]) : [];
  const main = argv.indexOf('dist/src/main.js');
  if (argv[0] !== 'node' || main < 0) throw new Error(`the Dockerfile's CMD does not run node dist/src/main.js: ${command}`);
  return argv.slice(1, main);
}

/** True when dist/ is missing or older than a source it is built from. */
export function buildIsStale(): boolean {
  if (!existsSync(BUILT_MAIN)) return true;
  const built = statSync(BUILT_MAIN).mtimeMs;
  return ['src', 'schema', 'client/operations.graphql'].some((source) => newestMtime(join(ROOT, source)) > built);
}

/** `npm run build` (codegen + tsc into dist/), as a deployment would. */
export function buildGateway(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

export interface GatewayStartOptions {
  core: number;
  redisUrl: string;
  /** `dist`: node dist/src/main.js (the build); `src`: node --import tsx src/main.ts (no build, for smoke runs). */
  from: 'dist' | 'src';
  /** Extra node flags after the Dockerfile's own, e.g. `--cpu-prof --cpu-prof-dir=/tmp/apg-profiles`. */
  nodeArgs: readonly string[];
  /** Extra environment (overrides the bench's own settings). */
  env: Record<string, string>;
}

async function untilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const exited = exitOf(child).then((code) => {
    throw new Error(`the gateway exited (${code}) before it was ready:\n${output()}`);
  });
  const deadline = Date.now() + 60_000;
  const poll = async () => {
    while (Date.now() < deadline) {
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the gateway was not ready within 60 s:\n${output()}`);
  };
  await Promise.race([poll(), exited]);
}

export async function startGateway(options: GatewayStartOptions): Promise<MeasuredServer> {
  const port = await freePort();
  const entry = options.from === 'dist' ? [BUILT_MAIN] : ['--import', 'tsx', join(ROOT, 'src/main.ts')];
  const child = spawnPinned(options.core, process.execPath, [...deployedNodeFlags(), ...options.nodeArgs, ...entry], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: BENCH_JWT_SECRET,
      PUBLISH_TOKEN_SECRET: BENCH_PUBLISH_TOKEN_SECRET,
      REDIS_URL: options.redisUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      // The file limit, not the gateway's own cap, should bound how many browsers one process holds.
      MAX_CONNECTIONS: '1000000',
      // Agents publish to every session in turn; the per-session limit protects against a runaway agent, not load.
      PUBLISH_RATE_PER_SESSION: '0',
      ...options.env,
    },
  });
  const { output, lines } = collectOutput(child);
  await untilReady(`http://127.0.0.1:${port}/ready`, child, () => output.join('\n'));
  return {
    kind: 'gateway',
    pid: child.pid!,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    output,
    outputLines: lines,
    stop: () => stopProcess(child, 'SIGTERM', 20_000),
  };
}

export async function startRelay(core: number, redisUrl: string): Promise<MeasuredServer> {
  const child = spawnPinned(core, process.execPath, ['--import', 'tsx', join(ROOT, 'bench/raw-relay.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: redisUrl, RELAY_PORT: '0' },
  });
  const { output, lines } = collectOutput(child);
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const match = /relay listening (\d+)/.exec(chunk.toString());
      if (match) {
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exitOf(child).then((code) => reject(new Error(`the relay exited (${code}):\n${output.join('\n')}`)));
  });
  return { kind: 'relay', pid: child.pid!, wsUrl: `ws://127.0.0.1:${port}/`, output, outputLines: lines, stop: () => stopProcess(child, 'SIGTERM') };
}
