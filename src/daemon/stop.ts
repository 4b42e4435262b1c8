import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'yaml';
import { loadConfig } from '../config/load.js';
import { substituteEnv } from '../config/env.js';
import { parseDuration } from '../config/duration.js';
import { AppError, ConfigError } from '../lib/errors.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { runningRuntime } from '../runtime/main.js';
import { runtimePaths } from '../runtime/paths.js';
import { isAutopullServer, readPid, releasePidFile } from './pid-file.js';

/** A process that is not our child has no exit event: its end is seen by asking, this often. */
const POLL_MS = 50;
export const DEFAULT_GRACE_MS = 300_000;

/**
 * What `autopull stop` needs of the config: data_dir (where the pid file and the runtime
 * are) and shutdown_grace (how long to wait). A config that does not load (being edited, or
 * read from a shell without the secrets' variables) must not keep a server from being
 * stopped: those two keys are then read from the YAML alone.
 */
export function stopSettings(file: string): { dataDir: string; graceMs: number } {
  try {
    const c = loadConfig(file);
    return { dataDir: c.data_dir, graceMs: c.shutdown_grace };
  } catch (err) {
    if (!(err instanceof ConfigError) || !existsSync(file)) throw err;
    let raw: Record<string, unknown>;
    try {
      raw = substituteEnv(parse(readFileSync(file, 'utf8')) as unknown, process.env).value as Record<string, unknown>;
    } catch {
      throw err;
    }
    const dir = typeof raw?.data_dir === 'string' && raw.data_dir !== '' ? raw.data_dir : './.autopull';
    const grace = typeof raw?.shutdown_grace === 'string' || typeof raw?.shutdown_grace === 'number' ? parseDuration(raw.shutdown_grace) : null;
    return { dataDir: isAbsolute(dir) ? dir : resolve(dirname(file), dir), graceMs: grace ?? DEFAULT_GRACE_MS };
  }
}

/** SIGTERM, with a message that says what to do when it is not ours to signal. */
function signal(pid: number, what: string): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    if ((err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new AppError('forbidden', `${what} (pid ${pid}) runs as another user: run this as that user (sudo -u USER autopull stop ...) or as root`);
    }
    throw err;
  }
}

/**
 * Stops the server the pid file names: SIGTERM (no new jobs; a running job gets
 * shutdown_grace), then waits until the process is gone and the pid file removed (removing
 * it itself when the server died without doing so). Resolves with the pid stopped, or null
 * when no autopull ran (a stale pid file is removed).
 */
export async function stopServer(pidFile: string, timeoutMs: number): Promise<number | null> {
  const pid = readPid(pidFile);
  if (pid === null || !isAutopullServer(pid)) {
    if (pid !== null) releasePidFile(pidFile, pid);
    return null;
  }
  signal(pid, 'autopull');
  const until = Date.now() + timeoutMs;
  while (isAutopullServer(pid)) {
    if (Date.now() > until) {
      throw new AppError('conflict', `autopull (pid ${pid}) is still stopping after ${Math.round(timeoutMs / 1000)}s; a job may ignore the stop. kill -9 ${pid} ends it at once (its job is recorded interrupted and resumed at the next start)`);
    }
    await delay(POLL_MS);
  }
  releasePidFile(pidFile, pid);
  return pid;
}

/**
 * Stops the data_dir's runtime (the proxies and the apps behind them): SIGTERM, which closes
 * the proxies, then stops the apps; waits until it is gone. Resolves with its pid, or null
 * when none ran.
 */
export async function stopRuntime(dataDir: string, timeoutMs: number): Promise<number | null> {
  const pidFile = runtimePaths(dataDir).pid;
  const pid = runningRuntime(pidFile);
  if (pid === null) return null;
  let start: string | null = null;
  try {
    start = (JSON.parse(readFileSync(pidFile, 'utf8')) as { start: string | null }).start;
  } catch {
    // gone meanwhile
  }
  signal(pid, 'the runtime');
  const until = Date.now() + timeoutMs;
  while (isSameProcessAlive(pid, start)) {
    if (Date.now() > until) throw new AppError('conflict', `the runtime (pid ${pid}) is still stopping its apps after ${Math.round(timeoutMs / 1000)}s; see ${runtimePaths(dataDir).log}`);
    await delay(POLL_MS);
  }
  return pid;
}
