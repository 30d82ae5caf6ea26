import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LoadGenerator } from './load-generator.js';
import { describeMachine, describeRevision } from './machine.js';
import { measureTarget, type TargetContext, type TargetResult } from './measure-target.js';
import { HelpRequested, parseOptions, resultsDir, shouldRecord, type BenchOptions } from './options.js';
import { allowedCores, pinProcess, ROOT } from './pinning.js';
import { startRedis, type BenchRedis } from './redis.js';
import { computeRatios, markdownReport, writeResults, type BenchResult } from './report.js';
import { buildGateway, buildIsStale, startGateway, startRelay, type MeasuredServer } from './servers.js';

/**
 * `npm run bench`: the whole benchmark in one command. Builds the gateway, starts a private Redis, the load
 * generator's processes and the servers (each pinned: server on one core, everything else on the other), starts
 * S sessions through the gateway, measures the gateway and then the raw relay with the same browsers and the same
 * load, and writes the results (bench/results/, bench/README.md). Progress goes to stderr, the table to stdout.
 */

const began = Date.now();
function log(message: string): void {
  process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

/** Stops what was started, newest first, whatever happened. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((error: unknown) => log(`clean-up: ${String(error)}`));
}

function checkCores(options: BenchOptions): void {
  const cores = allowedCores();
  for (const core of [options.serverCore, options.generatorCore, options.redisCore ?? options.generatorCore]) {
    if (!cores.includes(core)) throw new Error(`core ${core} is not available to this process (allowed: ${cores.join(', ')})`);
  }
  // Allowed for a smoke run on a one-core machine, but then server and generator compete and no figure means much.
  if (options.serverCore === options.generatorCore) log(`warning: server and load generator share core ${options.serverCore}: the figures are not comparable`);
}

function prepareGateway(options: BenchOptions): void {
  if (options.gatewayFrom !== 'dist') return;
  if (options.build === 'always' || (options.build === 'auto' && buildIsStale())) {
    log('building the gateway (npm run build)');
    buildGateway();
  }
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('dist/src/main.js is missing: run with --build always, or --gateway-from src');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const startedAt = new Date().toISOString();
  // The commit measured is the one checked out now, when the gateway is built; edits made during the run are not in it.
  const revision = describeRevision();
  checkCores(options);
  prepareGateway(options);
  // From here on the orchestrator stays off the server's core, like every other process of the generator.
  pinProcess(process.pid, options.generatorCore);

  const runId = Date.now().toString(36);
  const redis: BenchRedis = await startRedis(options.redisCore ?? options.generatorCore);
  cleanups.push(() => redis.stop());
  log(`redis on ${redis.url} (pid ${redis.pid}), run ${runId}, S = ${options.subscribers}`);

  const generator = await LoadGenerator.start({
    runId,
    subscribers: options.subscribers,
    perWorker: options.subscribersPerWorker,
    core: options.generatorCore,
    redisUrl: redis.url,
    verifyEvery: options.verifyEvery,
  });
  cleanups.push(() => generator.stop());
  log(`${generator.subscribers.length} subscriber worker(s) and a driver on core ${options.generatorCore}`);

  let stepCounter = 0;
  const context: TargetContext = {
    options,
    generator,
    redisPid: redis.pid,
    // Redis counts towards the generator's core only when it runs there.
    generatorSidePids: (options.redisCore ?? options.generatorCore) === options.generatorCore ? [redis.pid, process.pid] : [process.pid],
    nextStep: () => ++stepCounter,
    log,
  };

  const startServer = async (start: () => Promise<MeasuredServer>) => {
    const server = await start();
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    };
    cleanups.push(stop);
    return { server, stop };
  };

  // The sessions are started through the gateway's public API even when only the relay is measured.
  const gateway = await startServer(() =>
    startGateway({ core: options.serverCore, redisUrl: redis.url, from: options.gatewayFrom, nodeArgs: options.gatewayNodeArgs, env: options.gatewayEnv }),
  );
  log(`gateway (${options.gatewayFrom}) pid ${gateway.server.pid} on core ${options.serverCore}: ${gateway.server.graphqlUrl}`);
  const started = await generator.startSessions(gateway.server.graphqlUrl!, options.sessionConcurrency);
  const sessions = { ...started, elapsedMs: Math.round(started.elapsedMs), perSecond: Math.round((started.started * 1000) / started.elapsedMs) };
  log(`${sessions.started} sessions started in ${sessions.elapsedMs} ms${Object.keys(sessions.errors).length ? `, errors ${JSON.stringify(sessions.errors)}` : ''}`);
  if (sessions.started < options.subscribers) throw new Error(`only ${sessions.started} of ${options.subscribers} sessions started: ${JSON.stringify(sessions.errors)}`);

  const targets: Partial<Record<'gateway' | 'relay', TargetResult>> = {};
  if (options.targets.includes('gateway')) targets.gateway = await measureTarget(context, gateway.server);
  await gateway.stop();

  if (options.targets.includes('relay')) {
    const relay = await startServer(() => startRelay(options.serverCore, redis.url));
    log(`raw relay pid ${relay.server.pid} on core ${options.serverCore}: ${relay.server.wsUrl}`);
    targets.relay = await measureTarget(context, relay.server);
    await relay.stop();
  }

  const result: BenchResult = {
    version: 1,
    smoke: options.smoke,
    command,
    startedAt,
    finishedAt: new Date().toISOString(),
    revision,
    machine: describeMachine(),
    options,
    sessions,
    targets,
    ratios: computeRatios(targets.gateway, targets.relay),
  };
  const record = shouldRecord(options);
  const file = writeResults(result, resultsDir(options), record);
  log(`results: ${file}${record ? ' (and results/latest.json, bench/README.md)' : ''}`);
  console.log(markdownReport(result));
}

process.once('SIGINT', () => {
  log('interrupted: stopping everything');
  void cleanUp().finally(() => process.exit(130));
});

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = error instanceof HelpRequested ? 0 : 1;
} finally {
  await cleanUp();
}
