import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { allowedCores, ROOT } from './pinning.js';
import { redisVersion } from './redis.js';

/** What a result was measured on and with: figures mean little without the machine and the code revision. */
export interface MachineDescription {
  cpuModel: string;
  logicalCores: number;
  /** Cores this run was allowed to use (taskset). */
  coresAllowed: number[];
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  redis: string;
  /** Per-process open-files limit (soft/hard): it caps the sockets one gateway process can hold. */
  openFiles: { soft: number; hard: number };
}

export interface Revision {
  sha: string;
  shortSha: string;
  /** Uncommitted changes were present: the figures belong to the working tree, not the commit. */
  dirty: boolean;
}

export function describeMachine(): MachineDescription {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const files = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits);
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus().length,
    coresAllowed: allowedCores(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? platform(),
    kernel: release(),
    node: process.version,
    redis: redisVersion(),
    openFiles: { soft: Number(files?.[1]), hard: Number(files?.[2]) },
  };
}

/** The commit measured (read-only git commands). */
export function describeRevision(): Revision {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    const sha = git('rev-parse', 'HEAD');
    return { sha, shortSha: sha.slice(0, 7), dirty: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return { sha: 'unknown', shortSha: 'nogit', dirty: true };
  }
}
