import { readdirSync, readFileSync } from 'node:fs';

/**
 * What Linux says about a process, read from /proc from the outside: the measured server cannot be asked (asking
 * would cost it CPU and memory, and the raw relay has no endpoint to ask).
 */

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`: 100 on every Linux we target). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** User + system CPU time the process has used so far, in microseconds (10 ms resolution). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time of several processes together (e.g. everything pinned to the load generator's core). */
export function totalCpuMicros(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuMicros(pid);
    } catch {
      // A process that has exited no longer counts; its share is lost, which only understates generator load.
    }
  }
  return total;
}

/** Open file descriptors of a process, and its soft limit on them. */
export function fileDescriptors(pid: number): { open: number; limit: number } {
  const open = readdirSync(`/proc/${pid}/fd`).length;
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits);
  return { open, limit: match ? Number(match[1]) : Number.NaN };
}
