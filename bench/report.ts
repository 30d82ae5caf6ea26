import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LoadPath } from './options.js';
import type { BenchOptions } from './options.js';
import type { StepResult } from './load-step.js';
import type { MachineDescription, Revision } from './machine.js';
import type { TargetResult } from './measure-target.js';
import { ROOT } from './pinning.js';

/**
 * A run's results: the JSON written to bench/results/, and the markdown table printed and put into
 * bench/README.md between the result markers. `tsx bench/report.ts [file.json]` re-renders a stored result
 * (default: results/latest.json) into the README.
 */
export interface BenchResult {
  version: 1;
  smoke: boolean;
  command: string;
  startedAt: string;
  finishedAt: string;
  revision: Revision;
  machine: MachineDescription;
  options: BenchOptions;
  sessions: { started: number; errors: Record<string, number>; elapsedMs: number; perSecond: number };
  targets: Partial<Record<'gateway' | 'relay', TargetResult>>;
  ratios: Ratios;
}

/** Gateway ÷ relay for each headline (null when either side is missing). */
export interface Ratios {
  maxDeliveredPerSecond: number | null;
  rssPerSubscription: number | null;
  /** Absent from runs recorded before the marginal figure was measured. */
  rssMarginal?: number | null;
  connectPerSecond: number | null;
  /** At the highest offered rate both servers passed, so both did the same work. */
  cpuMicrosPerEvent: { atRate: number; ratio: number } | null;
}

const RESULTS_START = '<!-- results:start -->';
const RESULTS_END = '<!-- results:end -->';

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b) : null);
const n = (value: number) => Math.round(value).toLocaleString('en-US');

export function computeRatios(gateway: TargetResult | undefined, relay: TargetResult | undefined): Ratios {
  const passedRates = (target: TargetResult | undefined) =>
    new Map((target?.fcall.steps ?? []).filter((step) => step.verdict === 'ok').map((step) => [step.publish.run.offeredRate, step]));
  const gatewayRates = passedRates(gateway);
  const relayRates = passedRates(relay);
  const common = [...gatewayRates.keys()].filter((rate) => relayRates.has(rate)).sort((a, b) => b - a)[0];
  const cpu =
    common === undefined ? null : ratio(gatewayRates.get(common)!.serverCpuMicrosPerEvent, relayRates.get(common)!.serverCpuMicrosPerEvent);
  return {
    maxDeliveredPerSecond: ratio(gateway?.fcall.saturation?.deliveredPerSecond, relay?.fcall.saturation?.deliveredPerSecond),
    rssPerSubscription: ratio(gateway?.rss.perSubscriptionKiB, relay?.rss.perSubscriptionKiB),
    rssMarginal: ratio(gateway?.rss.marginalKiB, relay?.rss.marginalKiB),
    connectPerSecond: ratio(gateway?.connect.perSecond, relay?.connect.perSecond),
    cpuMicrosPerEvent: common !== undefined && cpu !== null ? { atRate: common, ratio: cpu } : null,
  };
}

function saturationCell(target: TargetResult | undefined): string {
  const saturation = target?.fcall.saturation;
  if (!target) return '–';
  if (!saturation) {
    const first = target.fcall.steps[0];
    return first ? `< ${n(first.publish.run.offeredRate)} (${first.verdict})` : 'not run';
  }
  const failed = target.fcall.steps.find((step) => step.verdict !== 'ok');
  const why =
    saturation.limitedBy === 'ladder-end'
      ? 'every rate tried passed'
      : saturation.limitedBy === 'generator-limited'
        ? `the load generator saturated at ${n(failed!.publish.run.offeredRate)}`
        : `${saturation.limitedBy} at ${n(failed!.publish.run.offeredRate)}`;
  const atLeast = saturation.limitedBy === 'ladder-end' || saturation.limitedBy === 'generator-limited' ? '≥ ' : '';
  return `${atLeast}${n(saturation.deliveredPerSecond)} (${why})`;
}

function lostInAll(target: TargetResult | undefined): string {
  if (!target) return '–';
  const steps: StepResult[] = [...target.fcall.steps, ...(target.mutation ? [target.mutation] : []), ...(target.batch && 'step' in target.batch ? [target.batch] : [])];
  const lost = steps.reduce((sum, step) => sum + step.lost + step.duplicates, 0);
  const gaps = steps.reduce((sum, step) => sum + step.gaps, 0);
  return `${n(lost)}${gaps ? ` (${n(gaps)} seq gaps)` : ''}`;
}

function heldCell(target: TargetResult | undefined): string {
  if (!target) return '–';
  const errors = Object.values(target.events.connectErrors).reduce((sum, count) => sum + count, 0);
  const detail = errors ? `, ${n(errors)} failed: ${Object.entries(target.events.connectErrors).map(([why, count]) => `${why} ×${count}`).join(', ')}` : ', no errors';
  return `${n(target.held)} of ${n(target.subscribers)}${detail}`;
}

function cpuCell(target: TargetResult | undefined, atRate: number | undefined): string {
  const step = target?.fcall.steps.find((s) => s.publish.run.offeredRate === atRate);
  return step ? `${step.serverCpuMicrosPerEvent} µs` : '–';
}

/** Runs recorded before the subscriptions were connected in two halves have no marginal figure. */
function marginalCell(target: TargetResult | undefined): string {
  return target?.rss.marginalKiB === undefined ? '–' : `${target.rss.marginalKiB} KiB`;
}

function ratioCell(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${value}`;
}

export function markdownReport(result: BenchResult): string {
  const { gateway, relay } = result.targets;
  const { machine, revision, options, ratios } = result;
  const cpuRate = ratios.cpuMicrosPerEvent?.atRate ?? gateway?.fcall.saturation?.offeredRate;
  const lines: string[] = [];
  lines.push(
    `Measured ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC with \`${result.command}\`${result.smoke ? ' (**smoke run: tiny S, not a measurement**)' : ''}, ` +
      `commit \`${revision.shortSha}\`${revision.dirty ? ' plus uncommitted changes' : ''}: ` +
      `${machine.cpuModel}, ${machine.logicalCores} cores (server on core ${options.serverCore}; subscribers, drivers and Redis on core ${options.generatorCore}), ` +
      `${machine.memoryGiB} GiB, ${machine.os}, kernel ${machine.kernel}, Node ${machine.node}, Redis ${machine.redis}. ` +
      `S = ${n(options.subscribers)}, ~300-byte events, steps of ${options.stepSeconds} s.`,
    '',
    '| figure | gateway | raw relay | gateway / relay | issue #4 target |',
    '|---|---:|---:|---:|---|',
    `| subscriptions held | ${heldCell(gateway)} | ${heldCell(relay)} | – | S = 10,000; 20,000 held by one process |`,
    `| RSS per idle subscription: the process's growth / S | ${gateway ? `${gateway.rss.perSubscriptionKiB} KiB` : '–'} | ${relay ? `${relay.rss.perSubscriptionKiB} KiB` : '–'} | ${ratioCell(ratios.rssPerSubscription)} | ≤ 20 KB |`,
    `| RSS per idle subscription: what the second S/2 added, each | ${marginalCell(gateway)} | ${marginalCell(relay)} | ${ratioCell(ratios.rssMarginal)} | ≤ 20 KB |`,
    `| server CPU with S idle subscriptions | ${gateway ? `${gateway.idleCpuPercent} %` : '–'} | ${relay ? `${relay.idleCpuPercent} %` : '–'} | – | – |`,
    `| connect rate (subscriptions established/s) | ${gateway ? n(gateway.connect.perSecond) : '–'} | ${relay ? n(relay.connect.perSecond) : '–'} | ${ratioCell(ratios.connectPerSecond)} | – |`,
    `| max delivered events/s, durable raw path, no loss, p99 < ${options.p99LimitMs} ms | ${saturationCell(gateway)} | ${saturationCell(relay)} | ${ratioCell(ratios.maxDeliveredPerSecond)} | ≥ 20,000, ratio ≥ 0.5 |`,
    `| server CPU per delivered event${cpuRate ? ` (at ${n(cpuRate)}/s)` : ''} | ${cpuCell(gateway, cpuRate)} | ${cpuCell(relay, cpuRate)} | ${ratioCell(ratios.cpuMicrosPerEvent?.ratio)} | – |`,
    `| \`publishAgentEvent\` mutations/s (${options.mutationConcurrency} agents) | ${gateway?.mutation ? `${n(gateway.mutation.publish.run.callsPerSecond)} (p99 round trip ${gateway.mutation.publish.run.roundTrip.p99Ms} ms)` : '–'} | – | – | ≥ 3,000 |`,
    `| batch publish events/s (${options.batchSize} per call) | ${!gateway?.batch ? '–' : 'unavailable' in gateway.batch ? `not run: ${gateway.batch.unavailable}` : n(gateway.batch.publish.run.eventsPerSecond)} | – | – | – |`,
    `| events lost or doubled, all steps | ${lostInAll(gateway)} | ${lostInAll(relay)} | – | 0 |`,
  );
  if (gateway) {
    lines.push(
      '',
      `Open files: the gateway had ${n(gateway.fds.openBefore)} open before the subscribers connected, under a limit of ${n(gateway.fds.limit)}: ` +
        `at most ${n(gateway.fds.maxSubscriptions)} WebSockets fit in one process here.`,
    );
  }
  lines.push(
    '',
    '| server | path | offered/s | published | delivered/s | lost | p50 ms | p99 ms | max ms | server\'s own p99 ms | server CPU | µs/event | generator core (Redis) | verdict |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const target of [gateway, relay]) {
    if (!target) continue;
    const steps: StepResult[] = [...target.fcall.steps, ...(target.mutation ? [target.mutation] : []), ...(target.batch && 'step' in target.batch ? [target.batch] : [])];
    for (const step of steps) {
      const run = step.publish as StepResult['publish'] & { run: { offeredRate?: number; concurrency?: number } };
      const offered = run.run.offeredRate !== undefined ? n(run.run.offeredRate) : `closed loop, ${run.run.concurrency} agents`;
      const path: Record<LoadPath, string> = { fcall: 'FCALL', mutation: 'mutation', batch: 'batch' };
      lines.push(
        `| ${target.kind} | ${path[step.path]} | ${offered} | ${n(step.expected)} | ${n(step.deliveredPerSecond)} | ${n(step.lost)} | ${step.latency.p50Ms} | ${step.latency.p99Ms} | ${step.latency.maxMs} | ${serverP99Cell(step)} | ` +
          `${step.serverCpuPercent} % | ${step.serverCpuMicrosPerEvent} | ${step.generatorCpuPercent} % (${step.redisCpuPercent} %) | ${step.verdict} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The bucket bound of the gateway's own histogram (null in the JSON: beyond its last bound); – for the relay. */
function serverP99Cell(step: StepResult): string {
  const bound = step.serverLatency?.p99AtMostMs;
  if (bound === undefined) return '–';
  return bound === null || bound === Infinity ? '> 30,000' : `≤ ${bound.toLocaleString('en-US')}`;
}

/** Writes `<outDir>/<date>-<sha>.json`; when recording, also latest.json and the README table. Returns the file written. */
export function writeResults(result: BenchResult, outDir: string, record: boolean): string {
  const dir = isAbsolute(outDir) ? outDir : join(ROOT, outDir);
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.slice(0, 16).replace(/:/g, '');
  const file = join(dir, `${stamp}-${result.revision.shortSha}${result.revision.dirty ? '-dirty' : ''}${result.smoke ? '-smoke' : ''}.json`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(file, json);
  if (record) {
    writeFileSync(join(dir, 'latest.json'), json);
    updateReadme(markdownReport(result));
  }
  return file;
}

const README = join(ROOT, 'bench/README.md');

/** Replaces what is between the result markers of bench/README.md. */
export function updateReadme(table: string): void {
  if (!existsSync(README)) return;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(RESULTS_START);
  const end = text.indexOf(RESULTS_END);
  if (start < 0 || end < start) throw new Error(`bench/README.md lacks the ${RESULTS_START} … ${RESULTS_END} markers`);
  writeFileSync(README, `${text.slice(0, start + RESULTS_START.length)}\n${table}\n${text.slice(end)}`);
}

// `tsx bench/report.ts [result.json]`: render a stored result into the README again.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? join(ROOT, 'bench/results/latest.json');
  const table = markdownReport(JSON.parse(readFileSync(file, 'utf8')) as BenchResult);
  updateReadme(table);
  console.log(table);
}
