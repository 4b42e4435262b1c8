import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { killGroup } from './exec.js';

/**
 * Stopping a process group without being fooled by zombies. A process whose parent died is
 * reparented to init, and an init that reaps late (some container inits reap every few
 * seconds) leaves it a zombie that still counts for `kill(-pgid, 0)`; a zombie holds no port
 * and no file, so "the group is gone" here means "no live member is left".
 */

/**
 * The live (not zombie) members of process group `pgid`, from Linux /proc; null where there
 * is no /proc to read.
 */
export function liveGroupMembers(pgid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') found.push(Number(name));
  }
  return found;
}

/** Whether group `pgid` has a live member (without /proc: any member, zombies included). */
export function groupHasLive(pgid: number): boolean {
  const live = liveGroupMembers(pgid);
  if (live !== null) return live.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until group `pgid` has no live member or `deadline` (ms since epoch) passes; true when gone. */
export async function waitGroupGone(pgid: number, deadline: number, pollMs = 20): Promise<boolean> {
  for (;;) {
    if (!groupHasLive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await delay(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}

/** Resolves when `child` has exited (at once when it has already). */
export function childExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Resolves true when `p` settles within `ms`, false when the time runs out first; leaves no timer behind. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface GroupStop {
  /** The main process ignored SIGTERM for the whole grace and was killed. */
  killedMain: boolean;
  /** Other members outlived the main process by the rest of the grace and were killed. */
  killedRest: number;
}

/**
 * Stops `child` (a group leader, spawned `detached`) and its group: SIGTERM to the group; the
 * wait is for the child's own exit (its 'exit' event), SIGKILL to the group when `graceMs`
 * passes first. The other members got the same SIGTERM and have what is left of the grace to
 * finish (a server under `npm start` finishing its requests), then the group gets SIGKILL, so
 * no member outlives the stop. Resolves when no live member is left (at most 1 s after a
 * SIGKILL: a process stuck in the kernel cannot be waited for longer).
 */
export async function stopGroup(child: ChildProcess, graceMs: number): Promise<GroupStop> {
  const pgid = child.pid;
  const result: GroupStop = { killedMain: false, killedRest: 0 };
  if (pgid === undefined) return result;
  const deadline = Date.now() + graceMs;
  const exited = childExited(child);
  killGroup(pgid, 'SIGTERM');
  if (!(await within(exited, graceMs))) {
    result.killedMain = true;
    killGroup(pgid, 'SIGKILL');
    await exited;
  }
  if (!(await waitGroupGone(pgid, deadline))) {
    result.killedRest = liveGroupMembers(pgid)?.length ?? 1;
    killGroup(pgid, 'SIGKILL');
    await waitGroupGone(pgid, Date.now() + 1000);
  }
  return result;
}
