// The one way the benchmarks start a server of the built CLI (`autopull serve -c FILE`): spawned
// with its log at `logLevel` (warn unless told), resolved once it prints "listening on URL",
// stopped by the bench's cleanups (SIGKILL) when the bench ends without stopping it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI } from '../test/helpers/cli.js';

export interface BenchServer {
  proc: ChildProcess;
  pid: number;
  url: string;
  /** ms from spawn to the "listening on" line. */
  startMs: number;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM, then its exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** AUTOPULL_LOG_LEVEL (default warn); the log (stdout) goes to /dev/null unless `stdout`. */
  logLevel?: string;
  stdout?: 'ignore' | 'inherit';
  env?: NodeJS.ProcessEnv;
  /** Node flags before the CLI (e.g. --cpu-prof). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export async function spawnServe(configFile: string, cleanups: (() => unknown)[], o: ServeOptions = {}): Promise<BenchServer> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), CLI, 'serve', '-c', configFile], {
    stdio: ['ignore', o.stdout ?? 'ignore', 'pipe'],
    env: { ...process.env, AUTOPULL_LOG_LEVEL: o.logLevel ?? 'warn', ...o.env },
  });
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  cleanups.push(() => alive() && proc.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not listen within ${o.timeoutMs ?? 30_000} ms:\n${err}`)), o.timeoutMs ?? 30_000);
    proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited before it listened:\n${err}`));
    });
  });
  const startMs = performance.now() - t0;
  return {
    proc,
    pid: proc.pid as number,
    url,
    startMs,
    exited,
    stop: () => stopProcess(proc, exited),
  };
}

/** SIGTERM, then SIGKILL after 15 s; resolves when the process has exited (at once if it has). */
async function stopProcess(proc: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface Listening {
  proc: ChildProcess;
  pid: number;
  port: number;
  /** ms from spawn to the first TCP connection accepted on `port`. */
  startMs: number;
  stop(): Promise<void>;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * Spawns `cmd args` (a server that will listen on 127.0.0.1:`port`) and resolves once a TCP
 * connect there succeeds (tried every 1 ms, bounded by `timeoutMs`): the cold start of any
 * server, autopull's or a baseline's, measured the same way.
 */
export async function spawnListening(cmd: string, args: string[], port: number, cleanups: (() => unknown)[], o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Listening> {
  const t0 = performance.now();
  const proc = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...o.env } });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = once(proc, 'exit');
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  cleanups.push(() => alive() && proc.kill('SIGKILL'));
  const until = t0 + (o.timeoutMs ?? 30_000);
  while (!(await connects(port))) {
    if (!alive()) throw new Error(`${cmd} exited before it listened on ${port}:\n${err}`);
    if (performance.now() > until) throw new Error(`${cmd} did not listen on ${port} within ${o.timeoutMs ?? 30_000} ms:\n${err}`);
    await delay(1);
  }
  const startMs = performance.now() - t0;
  return {
    proc,
    pid: proc.pid as number,
    port,
    startMs,
    stop: () => stopProcess(proc, exited),
  };
}

/** VmRSS and VmHWM (peak) of a process, in MiB (Linux /proc). */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) a process has used, all its threads or only `thread` (its main thread is `pid`), in ms (Linux /proc; clock ticks of 10 ms). */
export function cpuMs(pid: number, thread?: number): number {
  // After "pid (comm) " the fields run from state (field 3): utime is field 14, stime 15.
  const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
