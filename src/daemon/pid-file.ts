import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/load.js';
import { AppError } from '../lib/errors.js';

/**
 * The server's pid file: the pid alone on a line, as systemd's PIDFile=, logrotate scripts
 * and `kill $(cat FILE)` expect. It is claimed atomically and exclusively: the content is
 * written under a temp name, then linked to the real name, which fails when the name exists,
 * so two servers started at once cannot both think they own it and a reader never sees a
 * half-written pid. A file left by a process that died (kill -9, a crash) is stale: the
 * next claim removes it. Nothing is fsynced: after a power cut no process runs, and a pid file
 * lost, empty or stale is what the next claim handles anyway (three fsyncs were ~10 ms of start).
 */
export function defaultPidFile(config: Config): string {
  return join(config.data_dir, 'autopull.pid');
}

export function defaultLogFile(config: Config): string {
  return join(config.data_dir, 'autopull.log');
}

export function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether `pid` is a live autopull server: the process exists and its command line runs the
 * CLI's `serve` (Linux /proc; without /proc, a live process is believed). A pid that was
 * reused by another program after autopull died is not one.
 */
export function isAutopullServer(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  return args.includes('serve') && args.some((a) => /(^|\/)autopull$|\/cli\/main\.[jt]s$/.test(a));
}

/** The pid of the live autopull server the file names, else null (no file, or a stale one). */
export function livePid(file: string): number | null {
  const pid = readPid(file);
  return pid !== null && pid !== process.pid && isAutopullServer(pid) ? pid : null;
}

/** Claims `file` for this process; refused (naming the pid) when it names a live autopull. */
export function claimPidFile(file: string, pid = process.pid): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, `${pid}\n`, { mode: 0o644, flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
      }
      const other = livePid(file);
      if (other !== null) throw new AppError('conflict', `autopull already runs with pid ${other} (pid file ${file}); stop it first: autopull stop`);
      if (readPid(file) === pid) return;
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes the pid file when it still names this process (a newer server may own it now). */
export function releasePidFile(file: string, pid = process.pid): void {
  if (readPid(file) === pid) rmSync(file, { force: true });
}
