import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The benchmark's settings: defaults for a full run on the 2-core machine, a `--smoke` preset that finishes in
 * seconds, and overrides as flags (`--subscribers 2000`, `--rates=2000,5000`, `--no-build`) or environment variables
 * (`BENCH_SUBSCRIBERS=2000`, `BENCH_RATES=2000,5000`). Flags win over the environment, both over the preset.
 */
export type Target = 'gateway' | 'relay';
export type LoadPath = 'fcall' | 'mutation' | 'batch';

export interface BenchOptions {
  smoke: boolean;
  /** S: browsers, each its own WebSocket and session. */
  subscribers: number;
  /** Browsers per subscriber worker process (one process may open at most ~20,000 files). */
  subscribersPerWorker: number;
  /** Offered FCALL rates, events/s, tried in order until one fails. */
  rates: number[];
  stepSeconds: number;
  /** A step's delivery has settled when every event arrived, or nothing arrived for this long (then it lost some). */
  settleSeconds: number;
  /** Quiet time after connecting before RSS is read (twice: after this, and after it again). */
  idleSeconds: number;
  targets: Target[];
  paths: LoadPath[];
  mutationSeconds: number;
  /** Concurrent agents on the mutation paths. */
  mutationConcurrency: number;
  /** Events per `publishAgentEvents` call. */
  batchSize: number;
  /** WebSocket handshakes in flight per subscriber worker. */
  connectConcurrency: number;
  /** startSession requests in flight per subscriber worker. */
  sessionConcurrency: number;
  establishTimeoutSeconds: number;
  /** Parse every n-th frame in full to check the cheap read (1: every frame). */
  verifyEvery: number;
  /** A step fails at this p99 latency or more. */
  p99LimitMs: number;
  /** A step whose generator sent less than this share of the offered rate means the generator saturated. */
  minAchievedShare: number;
  gatewayFrom: 'dist' | 'src';
  /** `auto`: build when dist/ is older than src/; `always`; `never`. */
  build: 'auto' | 'always' | 'never';
  /** Extra node flags for the gateway (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/apg-profiles`. */
  gatewayNodeArgs: string[];
  /** Extra gateway environment, `NAME=value` pairs (space-separated), e.g. `SUBSCRIBER_BUFFER=5000`. */
  gatewayEnv: Record<string, string>;
  serverCore: number;
  generatorCore: number;
  /**
   * Redis's core; unset: the generator's. FCALL costs Redis tens of µs per event, so at high rates Redis can
   * saturate the generator's core: another core (if the machine has one) keeps it from limiting the generator.
   */
  redisCore?: number;
  /**
   * Where the result JSON goes. Unset: bench/results/ for a run that records (see `record`), the system temp
   * directory otherwise, so exploratory runs never land in the repository.
   */
  outDir?: string;
  /**
   * Update results/latest.json and the table in bench/README.md. Unset: only for a complete run (not smoke, both
   * targets, the FCALL path), so a partial or exploratory run never replaces the recorded table.
   */
  record?: boolean;
}

const FULL: BenchOptions = {
  smoke: false,
  subscribers: 10_000,
  subscribersPerWorker: 8_000,
  rates: [2_000, 5_000, 10_000, 15_000, 17_500, 20_000, 30_000, 40_000],
  stepSeconds: 10,
  settleSeconds: 5,
  idleSeconds: 5,
  targets: ['gateway', 'relay'],
  paths: ['fcall', 'mutation', 'batch'],
  mutationSeconds: 10,
  mutationConcurrency: 64,
  batchSize: 10,
  connectConcurrency: 200,
  sessionConcurrency: 32,
  establishTimeoutSeconds: 30,
  verifyEvery: 1_000,
  p99LimitMs: 250,
  minAchievedShare: 0.95,
  gatewayFrom: 'dist',
  build: 'auto',
  gatewayNodeArgs: [],
  gatewayEnv: {},
  serverCore: 0,
  generatorCore: 1,
};

const SMOKE: Partial<BenchOptions> = {
  smoke: true,
  subscribers: 30,
  rates: [300, 600],
  stepSeconds: 2,
  settleSeconds: 3,
  idleSeconds: 1,
  mutationSeconds: 2,
  mutationConcurrency: 8,
  connectConcurrency: 30,
  sessionConcurrency: 8,
  verifyEvery: 1,
  gatewayFrom: 'src',
  build: 'never',
};

type Kind = 'number' | 'numbers' | 'string' | 'boolean' | 'words' | 'pairs';

const KINDS: Record<Exclude<keyof BenchOptions, 'smoke'>, Kind> = {
  subscribers: 'number',
  subscribersPerWorker: 'number',
  rates: 'numbers',
  stepSeconds: 'number',
  settleSeconds: 'number',
  idleSeconds: 'number',
  targets: 'words',
  paths: 'words',
  mutationSeconds: 'number',
  mutationConcurrency: 'number',
  batchSize: 'number',
  connectConcurrency: 'number',
  sessionConcurrency: 'number',
  establishTimeoutSeconds: 'number',
  verifyEvery: 'number',
  p99LimitMs: 'number',
  minAchievedShare: 'number',
  gatewayFrom: 'string',
  build: 'string',
  gatewayNodeArgs: 'words',
  gatewayEnv: 'pairs',
  serverCore: 'number',
  generatorCore: 'number',
  redisCore: 'number',
  outDir: 'string',
  record: 'boolean',
};

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (name: string) => `BENCH_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

function parseValue(name: string, kind: Kind, raw: string): unknown {
  const number = (text: string) => {
    const value = Number(text.replace(/_/g, ''));
    if (!Number.isFinite(value)) throw new Error(`--${kebab(name)}: not a number: "${text}"`);
    return value;
  };
  switch (kind) {
    case 'number':
      return number(raw);
    case 'numbers':
      return raw.split(',').filter(Boolean).map(number);
    case 'boolean':
      if (!['true', 'false', '1', '0'].includes(raw)) throw new Error(`--${kebab(name)}: true or false, got "${raw}"`);
      return raw === 'true' || raw === '1';
    case 'words':
      return raw.split(/[\s,]+/).filter(Boolean);
    case 'pairs':
      return Object.fromEntries(
        raw
          .split(/\s+/)
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
    default:
      return raw;
  }
}

export const USAGE = `npm run bench -- [--smoke] [--<option> <value> | --<option>=<value> | --no-<boolean option>]
options (also as BENCH_<OPTION> environment variables, e.g. BENCH_SUBSCRIBERS=2000):
${Object.entries(KINDS)
  .map(([name, kind]) => `  --${kebab(name)} (${kind}; default ${JSON.stringify(FULL[name as keyof BenchOptions]) ?? 'see bench/README.md'})`)
  .join('\n')}`;

/** `--help`: the usage text is the message; not a failure. */
export class HelpRequested extends Error {}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const smoke = argv.includes('--smoke') || env['BENCH_SMOKE'] === '1' || env['BENCH_SMOKE'] === 'true';
  const options: BenchOptions = { ...FULL, ...(smoke ? SMOKE : {}) };
  const set = (name: string, raw: string) => ((options as unknown as Record<string, unknown>)[name] = parseValue(name, KINDS[name as keyof typeof KINDS], raw));
  for (const name of Object.keys(KINDS)) {
    const raw = env[envName(name)];
    if (raw !== undefined && raw !== '') set(name, raw);
  }
  const byFlag = new Map(Object.keys(KINDS).map((name) => [kebab(name), name]));
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--smoke') continue;
    if (arg === '--help' || arg === '-h') throw new HelpRequested(USAGE);
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = match && byFlag.get(match[2]!);
    if (!match || !name) throw new Error(`unknown argument "${arg}"\n${USAGE}`);
    if (match[1]) {
      if (KINDS[name as keyof typeof KINDS] !== 'boolean') throw new Error(`--no-${match[2]} is only for true/false options`);
      set(name, 'false');
    } else if (match[3] !== undefined) set(name, match[3]);
    else if (KINDS[name as keyof typeof KINDS] === 'boolean') set(name, 'true');
    else set(name, argv[++i] ?? '');
  }
  validate(options);
  return options;
}

/** Where this run's result JSON goes (`outDir`, or by whether the run records). */
export function resultsDir(options: BenchOptions): string {
  return options.outDir ?? (shouldRecord(options) ? 'bench/results' : join(tmpdir(), 'apg-bench-runs'));
}

/** Whether this run replaces results/latest.json and the README table. */
export function shouldRecord(options: BenchOptions): boolean {
  return options.record ?? (!options.smoke && options.targets.includes('gateway') && options.targets.includes('relay') && options.paths.includes('fcall'));
}

function validate(options: BenchOptions): void {
  const fail = (message: string) => {
    throw new Error(message);
  };
  if (!(options.subscribers >= 1)) fail('--subscribers must be at least 1');
  if (!(options.subscribersPerWorker >= 1 && options.subscribersPerWorker <= 19_000)) fail('--subscribers-per-worker must be 1 to 19000 (the open-files limit)');
  for (const target of options.targets) if (target !== 'gateway' && target !== 'relay') fail(`unknown target "${target}" (gateway, relay)`);
  for (const path of options.paths) if (!['fcall', 'mutation', 'batch'].includes(path)) fail(`unknown path "${path}" (fcall, mutation, batch)`);
  if (options.gatewayFrom !== 'dist' && options.gatewayFrom !== 'src') fail('--gateway-from is dist or src');
  if (!['auto', 'always', 'never'].includes(options.build)) fail('--build is auto, always or never');
  if (options.rates.some((rate) => !(rate > 0))) fail('--rates must be positive numbers');
}
