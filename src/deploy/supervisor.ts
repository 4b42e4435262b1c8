import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { killGroup } from '../lib/exec.js';
import { appLogCaps } from '../lib/log-rotate.js';
import { execLine } from '../lib/exec-line.js';
import { groupHasLive, stopGroup, waitGroupGone } from '../lib/process-group.js';

/**
 * Runs and supervises one repo's app (`deploy.start`): `sh -c <start>` in the release's real
 * path (so a later switch of `current` never confuses it), in its own process group, with
 * stdout and stderr appended to `logs/<repo>/<release>.log` (file descriptors, not pipes, so
 * the app never blocks on a full pipe and its output survives autopull). A start line that is
 * one simple command runs as `exec <start>` (lib/exec-line.ts): the app replaces sh, so it is
 * our direct child and its pid, in the pid file and in status, is the app's own.
 *
 * An unexpected exit is restarted with exponential backoff; an exit before `minUptimeMs`
 * counts as a crash, and after `maxRestarts` crashes in a row the state is `crashed` and it
 * stays down. Events: `exit` (every unexpected exit), `crash` (an exit before min uptime),
 * `crashed` (gave up), `spawn` (a process started).
 *
 * The pid file `apps/<repo>.json` holds the running group: if autopull dies with -9, the app
 * keeps running and holds its port; the next start finds it there and kills it (see
 * `killStale`) before it starts the app from `current` again.
 */
export type AppState = 'stopped' | 'running' | 'backoff' | 'crashed';

export interface SupervisorOptions {
  repo: string;
  command: string;
  port?: number;
  dataDir: string;
  minUptimeMs: number;
  maxRestarts: number;
  /** First restart delay, doubled after each crash in a row up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  uptimeMs: number;
  crash: boolean;
}

export interface PidFile {
  pid: number;
  release: string;
  port: number | null;
  started_at: string;
}

export function appPidFile(dataDir: string, repo: string): string {
  return join(dataDir, 'apps', `${repo}.json`);
}

export function appLogFile(dataDir: string, repo: string, release: string): string {
  return join(dataDir, 'logs', repo, `${release}.log`);
}

export class Supervisor extends EventEmitter {
  state: AppState = 'stopped';
  /** The release the app runs (or last ran) from. */
  release: string | null = null;
  /** Restarts after an unexpected exit since the last `start` (a deploy, a restart, a boot). */
  restarts = 0;
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private launch: { dir: string; env: NodeJS.ProcessEnv; command: string; port: number | undefined } | null = null;
  private stopping: Promise<void> | null = null;
  private watchedLog: { file: string; stop: () => void } | null = null;

  constructor(readonly opts: SupervisorOptions) {
    super();
  }

  /**
   * A reloaded config's start line, port and limits: they apply from the next `start`. The
   * app that runs (and its restarts after a crash) keeps the command and PORT it started with.
   */
  configure(next: Pick<SupervisorOptions, 'command' | 'port' | 'minUptimeMs' | 'maxRestarts'>): void {
    Object.assign(this.opts, next);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** When the running process was spawned (ms since the epoch), or null when none runs. */
  get spawnedAt(): number | null {
    return this.child ? this.startedAt : null;
  }

  get pidFile(): string {
    return appPidFile(this.opts.dataDir, this.opts.repo);
  }

  /** Starts the app from `releaseDir` (resolved to its real path). Stop the running one first. */
  start(releaseDir: string, env: NodeJS.ProcessEnv): void {
    if (this.child || this.stopping) throw new Error(`app ${this.opts.repo} is still running (pid ${this.pid}); stop it first`);
    const dir = realpathSync(releaseDir);
    this.release = dir.split('/').pop() ?? dir;
    this.launch = { dir, env: { ...env, ...(this.opts.port !== undefined ? { PORT: String(this.opts.port) } : {}) }, command: this.opts.command, port: this.opts.port };
    this.crashes = 0;
    this.restarts = 0;
    this.spawnChild();
  }

  private spawnChild(): void {
    const launch = this.launch;
    if (!launch) return;
    const logFile = appLogFile(this.opts.dataDir, this.opts.repo, this.release ?? 'app');
    // Owner-only: an app's output may hold what it should not print.
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    const fd = openSync(logFile, 'a', 0o600);
    this.watchLog(logFile);
    let child: ChildProcess;
    try {
      fchmodSync(fd, 0o600);
      child = spawn('sh', ['-c', execLine(launch.command)], { cwd: launch.dir, env: launch.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.startedAt = Date.now();
    this.state = 'running';
    child.on('error', (err) => this.opts.log?.('warn', `app ${this.opts.repo}: ${err.message}`));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    if (child.pid !== undefined) {
      const info: PidFile = { pid: child.pid, release: this.release ?? '', port: launch.port ?? null, started_at: new Date().toISOString() };
      mkdirSync(dirname(this.pidFile), { recursive: true });
      writeFileAtomic(this.pidFile, `${JSON.stringify(info)}\n`);
      this.opts.log?.('info', `app ${this.opts.repo} started from releases/${this.release} (pid ${child.pid}${launch.port ? `, PORT ${launch.port}` : ''})`);
      this.emit('spawn', child.pid);
    }
  }

  /** The app's log is kept to its size (lib/log-rotate.ts LogCaps) while it runs or restarts. */
  private watchLog(file: string | null): void {
    if (this.watchedLog?.file === file) return;
    this.watchedLog?.stop();
    this.watchedLog = file === null ? null : { file, stop: appLogCaps.watch(file) };
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    // A stop gives the rest of the group its grace (stopGroup); after an unexpected exit, what
    // the app left behind (a forked worker, sh's children) would hold the port: it goes now.
    if (this.stopping) return;
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    const uptimeMs = Date.now() - this.startedAt;
    const crash = uptimeMs < this.opts.minUptimeMs;
    this.crashes = crash ? this.crashes + 1 : 0;
    const exit: AppExit = { code, signal, uptimeMs, crash };
    const how = signal ? `killed by ${signal}` : `exit ${code}`;
    this.opts.log?.('warn', `app ${this.opts.repo} (releases/${this.release}) ended: ${how} after ${uptimeMs} ms${crash ? ' (a crash: before min_uptime)' : ''}`);
    this.emit('exit', exit);
    if (crash) this.emit('crash', exit);
    if (this.crashes > this.opts.maxRestarts) {
      this.state = 'crashed';
      this.watchLog(null);
      rmSync(this.pidFile, { force: true });
      this.opts.log?.('warn', `app ${this.opts.repo} crashed ${this.crashes} times in a row; not restarting it (state crashed)`);
      this.emit('crashed', exit);
      return;
    }
    const backoff = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.minBackoffMs ?? 500) * 2 ** Math.max(0, this.crashes - 1));
    this.state = 'backoff';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'backoff') return;
      this.restarts++;
      this.spawnChild();
    }, backoff);
  }

  /**
   * Stops the app: SIGTERM to its group, then waits for the app's own exit (SIGKILL to the
   * group after `graceMs`); the rest of the group gets what is left of the grace, then SIGKILL
   * (lib/process-group.ts `stopGroup`). Removes the pid file.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      const child = this.child;
      if (child) {
        const r = await stopGroup(child, graceMs);
        if (r.killedMain) this.opts.log?.('warn', `app ${this.opts.repo} ignored SIGTERM for ${graceMs} ms: SIGKILL`);
        if (r.killedRest > 0) this.opts.log?.('warn', `app ${this.opts.repo}: ${r.killedRest} process(es) of its group outlived it by the rest of stop_timeout: SIGKILL`);
      }
      this.child = null;
      this.state = 'stopped';
      this.watchLog(null);
      rmSync(this.pidFile, { force: true });
    })().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }
}

/**
 * Kills the app group a previous autopull left running (killed with -9: its app still holds
 * the port). The group is ours when the leader is gone but the group lives (the kernel never
 * reuses a pid that is still a group id), or when the leader's environment names this repo.
 */
export async function killStale(dataDir: string, repo: string, graceMs: number): Promise<number | null> {
  const file = appPidFile(dataDir, repo);
  let info: PidFile;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
  } catch {
    return null;
  }
  rmSync(file, { force: true });
  if (!Number.isInteger(info.pid) || info.pid <= 1 || !groupHasLive(info.pid)) return null;
  if (!isOurs(info.pid, repo)) return null;
  killGroup(info.pid, 'SIGTERM');
  if (!(await waitGroupGone(info.pid, Date.now() + graceMs))) {
    killGroup(info.pid, 'SIGKILL');
    await waitGroupGone(info.pid, Date.now() + 1000);
  }
  return info.pid;
}

/** Whether the group led by `pid` is this repo's app (its environment names the repo; no leader left: the group id is trusted). */
export function isOurs(pid: number, repo: string): boolean {
  let environ: string;
  try {
    readlinkSync(`/proc/${pid}/cwd`);
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch (err) {
    // No leader (only its group lives on), or no /proc: trust the group id.
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  return environ.split('\0').includes(`AUTOPULL_REPO=${repo}`);
}
