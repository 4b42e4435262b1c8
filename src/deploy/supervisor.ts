import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { killGroup } from '../lib/exec.js';

/**
 * Runs and supervises one repo's app (`deploy.start`): `sh -c <start>` in the release's real
 * path (so a later switch of `current` never confuses it), in its own process group, with
 * stdout and stderr appended to `logs/<repo>/<release>.log` (file descriptors, not pipes, so
 * the app never blocks on a full pipe and its output survives autopull).
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
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private launch: { dir: string; env: NodeJS.ProcessEnv } | null = null;
  private stopping: Promise<void> | null = null;

  constructor(readonly opts: SupervisorOptions) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get pidFile(): string {
    return appPidFile(this.opts.dataDir, this.opts.repo);
  }

  /** Starts the app from `releaseDir` (resolved to its real path). Stop the running one first. */
  start(releaseDir: string, env: NodeJS.ProcessEnv): void {
    if (this.child || this.stopping) throw new Error(`app ${this.opts.repo} is still running (pid ${this.pid}); stop it first`);
    const dir = realpathSync(releaseDir);
    this.release = dir.split('/').pop() ?? dir;
    this.launch = { dir, env: { ...env, ...(this.opts.port !== undefined ? { PORT: String(this.opts.port) } : {}) } };
    this.crashes = 0;
    this.spawnChild();
  }

  private spawnChild(): void {
    const launch = this.launch;
    if (!launch) return;
    const logFile = appLogFile(this.opts.dataDir, this.opts.repo, this.release ?? 'app');
    // Owner-only: an app's output may hold what it should not print.
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    const fd = openSync(logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      fchmodSync(fd, 0o600);
      child = spawn('sh', ['-c', this.opts.command], { cwd: launch.dir, env: launch.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.startedAt = Date.now();
    this.state = 'running';
    child.on('error', (err) => this.opts.log?.('warn', `app ${this.opts.repo}: ${err.message}`));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    if (child.pid !== undefined) {
      const info: PidFile = { pid: child.pid, release: this.release ?? '', port: this.opts.port ?? null, started_at: new Date().toISOString() };
      mkdirSync(dirname(this.pidFile), { recursive: true });
      writeFileAtomic(this.pidFile, `${JSON.stringify(info)}\n`);
      this.opts.log?.('info', `app ${this.opts.repo} started from releases/${this.release} (pid ${child.pid}${this.opts.port ? `, PORT ${this.opts.port}` : ''})`);
      this.emit('spawn', child.pid);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    // Grandchildren left by `sh` (an app that forks) would hold the port: the group goes too.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    if (this.stopping) return;
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
      rmSync(this.pidFile, { force: true });
      this.opts.log?.('warn', `app ${this.opts.repo} crashed ${this.crashes} times in a row; not restarting it (state crashed)`);
      this.emit('crashed', exit);
      return;
    }
    const backoff = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.minBackoffMs ?? 500) * 2 ** Math.max(0, this.crashes - 1));
    this.state = 'backoff';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state === 'backoff') this.spawnChild();
    }, backoff);
  }

  /**
   * Stops the app: SIGTERM to its group, SIGKILL after `graceMs`; resolves when the whole
   * group is gone. Removes the pid file.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      const child = this.child;
      if (child?.pid !== undefined) {
        const pid = child.pid;
        const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
        killGroup(pid, 'SIGTERM');
        const deadline = Date.now() + graceMs;
        const killed = await Promise.race([exited.then(() => false), delay(graceMs).then(() => true)]);
        if (killed) {
          this.opts.log?.('warn', `app ${this.opts.repo} ignored SIGTERM for ${graceMs} ms: SIGKILL`);
          killGroup(pid, 'SIGKILL');
          await exited;
        }
        await waitGroupGone(pid, Math.max(deadline, Date.now() + 1000));
      }
      this.child = null;
      this.state = 'stopped';
      rmSync(this.pidFile, { force: true });
    })().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Polls until no process is left in group `pgid`, SIGKILLing it once `deadline` passes. Gives
 * up 2 s after the SIGKILL: an unreaped zombie (a container whose init does not reap) still
 * counts as a group member but holds no port.
 */
async function waitGroupGone(pgid: number, deadline: number): Promise<void> {
  let hardEnd = Infinity;
  while (groupAlive(pgid) && Date.now() < hardEnd) {
    if (hardEnd === Infinity && Date.now() > deadline) {
      killGroup(pgid, 'SIGKILL');
      hardEnd = Date.now() + 2000;
    }
    await delay(10);
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
  if (!Number.isInteger(info.pid) || info.pid <= 1 || !groupAlive(info.pid)) return null;
  if (!isOurs(info.pid, repo)) return null;
  killGroup(info.pid, 'SIGTERM');
  await waitGroupGone(info.pid, Date.now() + graceMs);
  return info.pid;
}

function isOurs(pid: number, repo: string): boolean {
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
