import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { killGroup } from '../lib/exec.js';
import { execLine } from '../lib/exec-line.js';
import { stopGroup } from '../lib/process-group.js';
import { appLogCaps } from '../lib/log-rotate.js';
import type { InstanceInfo, InstanceSpec, InstanceState } from './protocol.js';

export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  uptimeMs: number;
  /** Ended before min uptime. */
  crash: boolean;
  /** Will be started again (it is routed and has restarts left). */
  restarting: boolean;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * One running copy of a release's app, owned by the runtime: its own process group, output
 * appended to its log file (a descriptor, not a pipe: the app never blocks on a full pipe),
 * `PORT` set to its port. While it is routed (it serves the repo's traffic), an exit restarts
 * it with backoff (500 ms doubling to 30 s) until it has crashed (ended before min uptime)
 * more than maxRestarts times in a row: then it stays down, `crashed`. An instance that is
 * not routed (one being gated, or draining) is never restarted: its exit is the answer.
 *
 * Events: `spawn` (a process started), `exit` (InstanceExit), `crashed`.
 */
export class Instance extends EventEmitter {
  state: InstanceState = 'starting';
  routed = false;
  restarts = 0;
  readonly startedAt = new Date().toISOString();
  private child: ChildProcess | null = null;
  private spawnedAt = 0;
  private crashes = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | null = null;
  private unwatchLog: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly spec: InstanceSpec,
    readonly port: number,
  ) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  info(open: { requests: number; sockets: number }): InstanceInfo {
    const { repo, release } = this.spec;
    const spawned_at = this.child ? new Date(this.spawnedAt).toISOString() : null;
    return { id: this.id, repo, release, pid: this.pid, port: this.port, state: this.state, started_at: this.startedAt, spawned_at, restarts: this.restarts, routed: this.routed, open };
  }

  /** Starts the process; throws when it cannot be spawned. */
  start(): void {
    const fd = openLog(this.spec.logFile);
    // The log is kept to its size while the instance lives (restarts included).
    this.unwatchLog ??= appLogCaps.watch(this.spec.logFile);
    let child: ChildProcess;
    try {
      // `exec`: the app replaces the shell, so its pid is the one we wait on and signal.
      child = spawn('sh', ['-c', execLine(this.spec.command)], {
        cwd: this.spec.cwd,
        env: { ...this.spec.env, PORT: String(this.port) },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.spawnedAt = Date.now();
    this.state = 'running';
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    this.emit('spawn');
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    // What the app forked would hold its port: the group goes with it.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    if (this.stopping) return;
    const uptimeMs = Date.now() - this.spawnedAt;
    const crash = uptimeMs < this.spec.minUptimeMs;
    this.crashes = crash ? this.crashes + 1 : 0;
    const restarting = this.routed && this.crashes <= this.spec.maxRestarts;
    this.emit('exit', { code, signal, uptimeMs, crash, restarting } satisfies InstanceExit);
    if (!restarting) {
      this.forgetLog();
      this.state = this.routed ? 'crashed' : 'stopped';
      if (this.routed) this.emit('crashed');
      return;
    }
    this.state = 'backoff';
    const wait = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.max(0, this.crashes - 1));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'backoff') return;
      // Routed away meanwhile (a failover to the previous instance): the gate decides its fate.
      if (!this.routed) {
        this.forgetLog();
        this.state = 'stopped';
        return;
      }
      this.restarts++;
      try {
        this.start();
      } catch {
        this.state = 'crashed';
        this.emit('crashed');
      }
    }, wait);
  }

  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves once no process of the group is left. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer);
      const child = this.child;
      if (child && child.exitCode === null && child.signalCode === null) await stopGroup(child, graceMs);
      this.child = null;
      this.forgetLog();
      this.state = 'stopped';
    })();
    return this.stopping;
  }

  private forgetLog(): void {
    this.unwatchLog?.();
    this.unwatchLog = undefined;
  }
}

function openLog(file: string): number {
  // Owner-only: an app's output may hold what it should not print.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

