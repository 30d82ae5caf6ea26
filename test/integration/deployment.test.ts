/**
 * No Docker engine runs here, so this tests what can be tested of the deployment: the compose file and the APISIX
 * configuration name what they must (and agree with the code: ports, paths, variables, the ping interval); the
 * Dockerfile's command, environment and HEALTHCHECK, run as they are written, start the built gateway, pass the
 * check and stop cleanly on SIGTERM; the demo agent works a real job against a real gateway.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { deployedNodeFlags } from '../../bench/servers.js';
import { GRAPHQL_PATH } from '../../src/app.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { KEEP_ALIVE_MS } from '../../src/ws/graphql-ws.js';
import { hs256Key, mintJwt, outcomeOf, overHttp, overWs, roots, within } from '../support/auth.js';
import { startGateway } from '../support/gateway.js';
import { AGENT_PROGRESS, START_SESSION, SUBMIT_REQUEST } from '../support/operations.js';
import { freePort } from '../support/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// Reading the files as Docker, Compose and APISIX would.

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's stages: continuation lines joined, comments dropped, instructions in order. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

const argsOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** `ENV A=1 B="two words"` → { A: '1', B: 'two words' } over every ENV line of the stage. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, 'ENV')) {
    for (const [, key, quoted, bare] of args.matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) env[key!] = quoted ?? bare!;
  }
  return env;
}

interface Healthcheck {
  command: string[];
  options: Record<string, string>;
}

function healthcheckOf(stage: Stage): Healthcheck {
  const [args] = argsOf(stage, 'HEALTHCHECK');
  const [, flags = '', command = ''] = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(args ?? '') ?? [];
  const options = Object.fromEntries([...flags.matchAll(/--([\w-]+)=(\S+)/g)].map(([, key, value]) => [key!, value!]));
  return { command: JSON.parse(command) as string[], options };
}

/** Docker durations as used in HEALTHCHECK (`3s`, `1m30s`), in milliseconds. */
function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit!]!, 0);
}

/**
 * Whether .dockerignore keeps `path` out of the build context: the last pattern that matches the path, or its
 * parent directory at the pattern's depth, decides (Docker's rule; `!` re-includes).
 */
function dockerignored(patterns: string[], path: string): boolean {
  let excluded = false;
  const segments = path.split('/');
  for (const line of patterns) {
    const negated = line.startsWith('!');
    const pattern = negated ? line.slice(1) : line;
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    const depth = pattern.split('/').length;
    if (regex.test(path) || (depth < segments.length && regex.test(segments.slice(0, depth).join('/')))) excluded = !negated;
  }
  return excluded;
}

/** `KEY=value` lines of an env file. */
function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
      .filter((match) => match !== null)
      .map(([, key, value]) => [key!, value!]),
  );
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` against `vars`; unset with `:?` throws, as compose does. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => {
    const set = vars[name];
    if (set) return set;
    if (kind === '?') throw new Error(`${name}: ${rest}`);
    return kind === '-' ? rest : '';
  });
}

/** The `${NAME…}` variables a compose value reads. */
const interpolated = (value: string) => [...value.matchAll(/\$\{(\w+)/g)].map(([, name]) => name!);

/** Every variable src/config.ts reads (it is the only reader of the environment): its quoted SCREAMING_CASE names. */
const CONFIG_VARIABLES = new Set([...read('src/config.ts').matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map(([, name]) => name!));

// What the compose file and the APISIX files say, parsed once. Types are what the files hold; tests check them.
type Yaml = Record<string, any>;
const compose = parse(read('docker-compose.yml'), { merge: true }) as Yaml;
const apisixConfig = parse(read('deploy/apisix/config.yaml')) as Yaml;
const apisixRoutesText = read('deploy/apisix/apisix.yaml');
const apisixRoutes = parse(apisixRoutesText) as Yaml;
const envExample = parseEnvFile(read('.env.example'));
const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;

/** The gateway replicas: services built from this repository that run its default command, in no profile. */
const replicaNames = Object.entries(compose['services'] as Yaml)
  .filter(([, service]) => service.build !== undefined && service.command === undefined && service.profiles === undefined)
  .map(([name]) => name);
const replicas = replicaNames.map((name) => compose['services'][name] as Yaml);
const routes = apisixRoutes['routes'] as Yaml[];
const routeById = (id: string) => routes.find((route) => route['id'] === id)!;
const upstreamOf = (route: Yaml) => (apisixRoutes['upstreams'] as Yaml[]).find((upstream) => upstream['id'] === route['upstream_id'])!;

// Keys APISIX accepts on a route, an upstream and in limit-conn (apisix/schema_def.lua, plugins/limit-conn.lua):
// a misspelt key is refused when APISIX loads the file, which no test here would otherwise notice.
const ROUTE_KEYS = ['id', 'name', 'desc', 'uri', 'uris', 'methods', 'host', 'hosts', 'remote_addr', 'remote_addrs', 'priority', 'vars', 'filter_func', 'plugins', 'plugin_config_id', 'upstream', 'upstream_id', 'service_id', 'enable_websocket', 'timeout', 'labels', 'status'];
const UPSTREAM_KEYS = ['id', 'name', 'desc', 'type', 'nodes', 'retries', 'retry_timeout', 'timeout', 'checks', 'hash_on', 'key', 'scheme', 'pass_host', 'upstream_host', 'labels', 'tls', 'keepalive_pool'];
const LIMIT_CONN_KEYS = ['conn', 'burst', 'default_conn_delay', 'only_use_default_delay', 'key_type', 'key', 'rejected_code', 'rejected_msg', 'allow_degradation'];

// ---------------------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('runs Redis 7 with an append-only file on a named volume, health-checked', () => {
    const redis = compose['services']['redis'] as Yaml;
    expect(redis['image']).toMatch(/^redis:7(\.|-|$)/);
    expect(redis['command'].join(' ')).toMatch(/--appendonly yes/);
    const [volume] = redis['volumes'] as string[];
    expect(volume).toMatch(/^(\w[\w-]*):\/data$/);
    expect(Object.keys(compose['volumes'])).toContain(volume!.split(':')[0]);
    expect(redis['healthcheck']['test']).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs two gateway replicas from this Dockerfile in production mode, on Redis, sharing their secrets from .env', () => {
    expect(replicaNames).toHaveLength(2);
    for (const replica of replicas) {
      expect(replica['build']).toBe('.');
      const env = replica['environment'] as Record<string, string>;
      expect(env['NODE_ENV']).toBe('production');
      expect(new URL(env['REDIS_URL']!).hostname).toBe('redis');
      expect(replica['depends_on']['redis']['condition']).toBe('service_healthy');
      // Production refuses to start without them; compose refuses to start without .env (`:?`).
      expect(env['JWT_SECRET']).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
      expect(env['PUBLISH_TOKEN_SECRET']).toMatch(/^\$\{PUBLISH_TOKEN_SECRET:\?.+\}$/);
      // Not published: everything goes through APISIX, and /health, /ready, /metrics stay inside.
      expect(replica['ports']).toBeUndefined();
      expect(replica['ulimits']['nofile']['hard']).toBeGreaterThan(DEFAULT_CONFIG.maxConnections);
    }
    expect(replicas[0]).toEqual(replicas[1]);
  });

  it('passes the replicas only variables the gateway reads, and .env.example defines every one it interpolates', () => {
    const env = replicas[0]!['environment'] as Record<string, string>;
    expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.has(name))).toEqual([]);
    const required = Object.values(env).flatMap(interpolated);
    expect(required.filter((name) => envExample[name] === undefined)).toEqual([]);
    // With .env.example copied to .env, the secrets pass the gateway's own length check.
    expect(envExample['JWT_SECRET']!.length).toBeGreaterThanOrEqual(32);
    expect(envExample['PUBLISH_TOKEN_SECRET']!.length).toBeGreaterThanOrEqual(32);
    expect(() => interpolate(env['JWT_SECRET']!, {})).toThrow(/JWT_SECRET/);
  });

  it('puts APISIX in front in standalone mode, on the files in deploy/apisix, with the open-file limit it needs', () => {
    const apisix = compose['services']['apisix'] as Yaml;
    const [, minor] = /^apache\/apisix:3\.(\d+)\.\d+-debian$/.exec(apisix['image']) ?? [];
    expect(Number(minor), 'the proxy-buffering plugin ships with APISIX 3.18 and later').toBeGreaterThanOrEqual(18);
    expect(apisix['environment']['APISIX_STAND_ALONE']).toBe('true');
    const mounts = Object.fromEntries((apisix['volumes'] as string[]).map((volume) => volume.split(':').slice(0, 2).reverse()));
    expect(mounts['/usr/local/apisix/conf/config.yaml']).toBe('./deploy/apisix/config.yaml');
    expect(mounts['/usr/local/apisix/conf/apisix.yaml']).toBe('./deploy/apisix/apisix.yaml');
    const listen = apisixConfig['apisix']['node_listen'] as number[];
    expect(apisix['ports']).toEqual(listen.map((port) => `${port}:${port}`));
    expect(apisix['ulimits']['nofile']['hard']).toBeGreaterThanOrEqual(apisixConfig['nginx_config']['worker_rlimit_nofile']);
    // Only when both replicas pass the image's HEALTHCHECK.
    for (const name of replicaNames) expect(apisix['depends_on'][name]['condition']).toBe('service_healthy');
    expect(argsOf(runtime, 'HEALTHCHECK')).toHaveLength(1);
  });

  it('has a demo agent, in the demo profile only, that runs on the gateway image and talks to the gateway through APISIX', () => {
    const demo = compose['services']['demo-agent'] as Yaml;
    expect(demo['profiles']).toEqual(['demo']);
    expect(demo['image']).toBe(replicas[0]!['image']);
    // The script the command names, inside the image's WORKDIR, is the one mounted from deploy/demo-agent.
    const [, script] = demo['command'] as string[];
    const [source, target] = (demo['volumes'] as string[])[0]!.split(':');
    const [workdir] = argsOf(runtime, 'WORKDIR');
    expect(existsSync(join(ROOT, source!, relative(target!, join(workdir!, script!))))).toBe(true);
    expect(new URL(demo['environment']['GATEWAY_URL']).host).toBe(`apisix:${apisixConfig['apisix']['node_listen'][0]}`);
    expect(new URL(demo['environment']['GATEWAY_URL']).pathname).toBe(GRAPHQL_PATH);
  });
});

describe('APISIX configuration (deploy/apisix)', () => {
  it('runs standalone: data plane, routes from the YAML file, which ends with #END', () => {
    expect(apisixConfig['deployment']).toEqual({ role: 'data_plane', role_data_plane: { config_provider: 'yaml' } });
    expect(apisixRoutesText.trimEnd().endsWith('#END')).toBe(true);
  });

  it('raises worker connections and the open-file limit for 10k+ proxied WebSockets (two connections each)', () => {
    const nginx = apisixConfig['nginx_config'] as Yaml;
    expect(nginx['event']['worker_connections']).toBeGreaterThanOrEqual(2 * 10_000);
    expect(nginx['worker_rlimit_nofile']).toBeGreaterThan(nginx['event']['worker_connections']);
  });

  it('balances round-robin over both replicas, on the port the image listens on', () => {
    const upstream = upstreamOf(routeById('graphql'));
    expect(upstream['type']).toBe('roundrobin');
    expect(upstream['nodes']).toEqual(replicaNames.map((host) => ({ host, port: Number(envOf(runtime)['PORT']), weight: 1 })));
    expect(Object.keys(upstream).filter((key) => !UPSTREAM_KEYS.includes(key))).toEqual([]);
  });

  it('waits far longer than the gateway ping interval before calling a quiet socket dead', () => {
    const { timeout } = upstreamOf(routeById('graphql'));
    expect(Object.keys(timeout).sort()).toEqual(['connect', 'read', 'send']);
    expect(timeout.read).toBeGreaterThanOrEqual((10 * KEEP_ALIVE_MS) / 1000);
    expect(timeout.connect).toBeLessThanOrEqual(10);
  });

  it('takes a replica out while its readiness probe fails', () => {
    const { checks } = upstreamOf(routeById('graphql'));
    expect(checks.active).toMatchObject({ type: 'http', http_path: '/ready' });
  });

  it('proxies /graphql with WebSockets on and a per-client connection limit', () => {
    const route = routeById('graphql');
    expect(route['uri']).toBe(GRAPHQL_PATH);
    expect(route['enable_websocket']).toBe(true);
    const limit = route['plugins']['limit-conn'] as Yaml;
    expect(limit).toMatchObject({ key_type: 'var', key: 'remote_addr' });
    expect(limit['conn']).toBeGreaterThan(0);
    expect(limit['default_conn_delay']).toBeGreaterThan(0);
    expect(limit['burst']).toBeGreaterThanOrEqual(0);
  });

  it('sends SSE requests (Accept: text/event-stream on /graphql) through a route with response buffering off', () => {
    const sse = routeById('graphql-sse');
    expect(sse['uri']).toBe(GRAPHQL_PATH);
    expect(sse['vars']).toEqual([['http_accept', '~~', 'text/event-stream']]);
    expect(sse['priority']).toBeGreaterThan(routeById('graphql')['priority'] ?? 0);
    expect(sse['plugins']['proxy-buffering']).toEqual({ disable_proxy_buffering: true });
    expect(sse['plugins']['limit-conn']).toEqual(routeById('graphql')['plugins']['limit-conn']);
    expect(upstreamOf(sse)).toBe(upstreamOf(routeById('graphql')));
  });

  it('sends EventSource streams (/updates/…) through a GET-only route with response buffering off', () => {
    const updates = routeById('updates-sse');
    expect(updates['uri']).toBe('/updates/*');
    expect(updates['methods']).toEqual(['GET']);
    expect(updates['plugins']['proxy-buffering']).toEqual({ disable_proxy_buffering: true });
    expect(updates['plugins']['limit-conn']).toEqual(routeById('graphql')['plugins']['limit-conn']);
    expect(upstreamOf(updates)).toBe(upstreamOf(routeById('graphql')));
  });

  it('exposes nothing but /graphql and /updates/…, with keys and plugins APISIX knows', () => {
    for (const route of routes) {
      expect([route['uri'], ...(route['uris'] ?? [])].filter(Boolean)).toEqual([route['id'] === 'updates-sse' ? '/updates/*' : GRAPHQL_PATH]);
      expect(Object.keys(route).filter((key) => !ROUTE_KEYS.includes(key))).toEqual([]);
      for (const plugin of Object.keys(route['plugins'] ?? {})) expect(apisixConfig['plugins']).toContain(plugin);
      const limit = route['plugins']['limit-conn'] as Yaml;
      expect(Object.keys(limit).filter((key) => !LIMIT_CONN_KEYS.includes(key))).toEqual([]);
    }
  });
});

describe('Dockerfile', () => {
  it('builds in stages and runs production dependencies only, as a non-root user, in production mode', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const copiedModules = argsOf(runtime, 'COPY').find((args) => / \.\/node_modules$/.test(args));
    const from = /--from=(\S+)/.exec(copiedModules ?? '')?.[1];
    const deps = stages.find((stage) => stage.name === from);
    expect(argsOf(deps!, 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(argsOf(runtime, 'USER')).toEqual(['node']);
    expect(envOf(runtime)['NODE_ENV']).toBe('production');
    expect(argsOf(runtime, 'EXPOSE')).toEqual([envOf(runtime)['PORT']]);
    // Exec form: node itself is PID 1 and receives SIGTERM (no shell in between).
    const command = JSON.parse(argsOf(runtime, 'CMD')[0]!) as string[];
    expect([command[0], command.at(-1)]).toEqual(['node', 'dist/src/main.js']);
    // `npm run start:dist` and the load benchmark (bench/servers.ts) start the gateway as the image does.
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts['start:dist']).toBe(command.join(' '));
    expect(deployedNodeFlags()).toEqual(command.slice(1, -1));
    expect(argsOf(runtime, 'ENTRYPOINT')).toEqual([]);
  });

  it('checks liveness at /health', () => {
    const { command, options } = healthcheckOf(runtime);
    expect(command.join(' ')).toContain("/health'");
    expect(durationMs(options['timeout']!)).toBeLessThan(durationMs(options['interval']!));
  });

  it('sends the builder what it copies and nothing else (.dockerignore)', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = stages.flatMap((stage) =>
      argsOf(stage, 'COPY')
        .filter((args) => !args.startsWith('--from'))
        .flatMap((args) => args.split(/\s+/).slice(0, -1)),
    );
    const filesUnder = (path: string): string[] =>
      statSync(join(ROOT, path)).isDirectory() ? readdirSync(join(ROOT, path)).flatMap((entry) => filesUnder(`${path}/${entry}`)) : [path];
    const needed = sources.flatMap(filesUnder).filter((path) => !path.startsWith('client/generated/'));
    expect(needed.length).toBeGreaterThan(10);
    expect(needed.filter((path) => dockerignored(patterns, path))).toEqual([]);
    for (const path of ['.env', '.env.example', 'node_modules/ioredis/package.json', 'dist/src/main.js', '.git/HEAD', 'test/support/gateway.ts', 'client/generated/gql.ts', 'deploy/apisix/apisix.yaml']) {
      expect(dockerignored(patterns, path), path).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

const execFileAsync = promisify(execFile);

/** Runs a HEALTHCHECK command as Docker does (exec form, the container's environment, killed at --timeout). */
function runHealthcheck({ command, options }: Healthcheck, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const check = spawn(command[0]!, command.slice(1), { cwd: ROOT, env, stdio: 'ignore', timeout: durationMs(options['timeout']!) });
    check.once('error', () => resolve(-1));
    check.once('exit', (code) => resolve(code ?? -1));
  });
}

/** Every package `entry` loads, following its relative imports through the built files. */
function packagesLoadedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
      if (specifier!.startsWith('.')) pending.push(join(dirname(file), specifier!));
      else if (!specifier!.startsWith('node:') && !builtinModules.includes(specifier!)) {
        packages.add(specifier!.split('/').slice(0, specifier!.startsWith('@') ? 2 : 1).join('/'));
      }
    }
  }
  return packages;
}

describe('the image command', () => {
  const [command, ...args] = JSON.parse(argsOf(runtime, 'CMD')[0]!) as string[];
  const healthcheck = healthcheckOf(runtime);
  const grace = durationMs(replicas[0]!['stop_grace_period']);

  beforeAll(async () => {
    await execFileAsync('npm', ['run', 'build'], { cwd: ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run build failed:\n${error.stdout}\n${error.stderr}`);
    });
  }, 120_000);

  it('loads no package the runtime stage leaves out (devDependencies)', () => {
    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const loaded = [...packagesLoadedBy(join(ROOT, args.at(-1)!))];
    expect(loaded.length).toBeGreaterThan(5);
    expect(loaded.filter((name) => dependencies[name] === undefined)).toEqual([]);
  });

  it('exports the agent publisher as agent-progress-gateway/agent, built, loading production dependencies only', async () => {
    const probe = "const agent = await import('agent-progress-gateway/agent'); console.log(typeof agent.createAgentPublisher, typeof agent.AgentPublishError)";
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT });
    expect(stdout.trim()).toBe('function function');
    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect([...packagesLoadedBy(join(ROOT, 'dist/src/agent/index.js'))].filter((name) => dependencies[name] === undefined)).toEqual([]);
  });

  it('starts the built gateway with a replica’s environment, passes the HEALTHCHECK, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const replicaEnv = Object.fromEntries(
      Object.entries(replicas[0]!['environment'] as Record<string, string>).map(([name, value]) => [name, interpolate(value, envExample)]),
    );
    // As Docker assembles it: the image's ENV, then the service's environment; here Redis and the port are the test's.
    const env = { PATH: process.env['PATH'], ...envOf(runtime), ...replicaEnv, REDIS_URL: inject('redisUrl'), PORT: String(port) };
    const gateway = spawn(command!, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    gateway.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    gateway.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => gateway.once('exit', (code) => resolve(code)));
    onTestFinished(() => {
      if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    });

    // Docker's view: the check fails while the process starts, then passes.
    await expect
      .poll(
        () => {
          if (gateway.exitCode !== null) throw new Error(`the gateway exited with ${gateway.exitCode}:\n${output.join('')}`);
          return runHealthcheck(healthcheck, env);
        },
        { timeout: durationMs(healthcheck.options['start-period']!) + 5_000, interval: 200 },
      )
      .toBe(0);
    // What APISIX's active health check asks for.
    const ready = await fetch(`http://127.0.0.1:${port}${upstreamOf(routeById('graphql'))['checks']['active']['http_path']}`);
    expect(ready.status).toBe(200);

    gateway.kill('SIGTERM');
    expect(await within(exited, grace, 'exit after SIGTERM'), output.join('')).toBe(0);
    expect(await runHealthcheck(healthcheck, env)).not.toBe(0);
  }, grace + 30_000);
});

describe('the demo agent (deploy/demo-agent)', () => {
  const JWT_SECRET = 'deployment-test-jwt-secret-of-32-chars-or-more';

  it('takes a queued job and reports its run through the gateway with the job’s publish token', async () => {
    const redisUrl = inject('redisUrl');
    // Its own queue: no other test's job reaches this agent, and no other worker takes this job.
    const requestQueueKey = `queue:demo-agent-${randomUUID()}`;
    const gw = await startGateway({
      store: 'redis',
      redisUrl,
      config: {
        auth: { secret: JWT_SECRET, roleClaim: 'role', agentRole: 'agent' },
        publishTokenSecret: 'deployment-test-publish-token-secret-32-chars',
        requestQueueKey,
      },
    });
    onTestFinished(() => gw.stop());
    const [, script] = compose['services']['demo-agent']['command'] as string[];
    const agent = spawn(process.execPath, [script!], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl, GATEWAY_URL: gw.url, REQUEST_QUEUE_KEY: requestQueueKey, DEMO_STEP_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    agent.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    agent.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
    onTestFinished(() => {
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    });

    const alice = await mintJwt(hs256Key(JWT_SECRET), { sub: 'alice' });
    const sessionId = `demo-${randomUUID()}`;
    expect(outcomeOf(await overHttp(gw.url, START_SESSION, { sessionId }, alice))).toBe('ok');
    const submitted = await overHttp(gw.url, SUBMIT_REQUEST, { sessionId, input: { prompt: 'Plan a trip' } }, alice);
    const requestId = roots<{ id: string }>(submitted)[0]!.id;

    // The request's subscription completes after RUN_FINISHED: the agent ran the whole job.
    const run = await overWs(gw.wsUrl, AGENT_PROGRESS, { sessionId, requestId }, alice, { carrier: 'param' });
    const events = roots<{ type: string; agent: string | null; requestId: string }>(run);
    expect(events.map((event) => event.type), output.join('')).toEqual([
      'REQUEST_QUEUED',
      'RUN_STARTED',
      'PROGRESS',
      'TOOL_CALL_STARTED',
      'TOOL_CALL_FINISHED',
      'PROGRESS',
      'RUN_FINISHED',
    ]);
    expect(events.slice(1).every((event) => event.agent === 'demo-agent' && event.requestId === requestId)).toBe(true);

    agent.kill('SIGTERM');
    expect(await within(exited, 5_000, 'demo agent exit after SIGTERM'), output.join('')).toBe(0);
  });
});
