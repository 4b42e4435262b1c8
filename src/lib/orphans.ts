import { readdirSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';
import { killGroup } from './exec.js';

/**
 * Processes whose working directory is inside `dir` (Linux /proc; empty elsewhere). After a
 * kill -9 of autopull, a build it started may live on in a release directory that is about to
 * be removed; its pid may not have reached the database if autopull died right after spawning.
 */
export function processesInside(dir: string): number[] {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(prefix)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Kills the process group of every process working inside `dir`; returns how many. */
export function killProcessesInside(dir: string): number {
  const pids = processesInside(dir);
  for (const pid of pids) {
    if (!killGroup(pid, 'SIGKILL')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  return pids.length;
}
