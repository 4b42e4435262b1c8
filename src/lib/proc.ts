import { readFileSync } from 'node:fs';

/**
 * A process's start time in clock ticks since boot (Linux /proc/PID/stat, field 22), or
 * null where /proc is not available. With the pid it identifies a process across pid reuse.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process `pid` is alive and, when `startTime` is known, is the same process. */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === null) return true;
  const now = processStartTime(pid);
  return now === null || now === startTime;
}

/**
 * Whether `pid` has exited but was not reaped yet (a zombie: its parent died and an init that
 * reaps late has not got to it). It runs nothing and holds no socket, yet `kill(pid, 0)`
 * succeeds on it. False where /proc cannot tell.
 */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/** isSameProcessAlive, and not a zombie: the process still runs. */
export function isRunning(pid: number, startTime: string | null): boolean {
  return isSameProcessAlive(pid, startTime) && !isZombie(pid);
}
