import { existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { runCli, type CliResult } from './cli.js';

export interface Daemon {
  pid: number;
  url: string;
  pidFile: string;
  logFile: string;
  /** `autopull stop` (with `args`); resolves with its result. */
  stop(args?: string[]): Promise<CliResult>;
}

/** Whether a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * `autopull serve --daemon` from the built CLI: it returns once the daemon listens. The
 * test's end stops it and its runtime (`autopull stop --all`), then SIGKILLs what is left.
 */
export async function startDaemon(configFile: string, t: { after(fn: () => unknown): void }, args: string[] = []): Promise<Daemon> {
  const res = await runCli(['serve', '--daemon', '-c', configFile, ...args], { timeoutMs: 60_000 });
  if (res.code !== 0) throw new Error(`serve --daemon exited ${res.code}:\n${res.stdout}${res.stderr}`);
  const pid = Number(/pid (\d+)/.exec(res.stdout)?.[1]);
  const url = /listening on (\S+)/.exec(res.stdout)?.[1] ?? '';
  const logFile = /log:\s+(\S+)/.exec(res.stdout)?.[1] ?? '';
  const pidFile = /pid file:\s+(\S+)/.exec(res.stdout)?.[1] ?? '';
  const stop = (more: string[] = []) => runCli(['stop', '-c', configFile, ...(args.includes('--pid-file') ? ['--pid-file', args[args.indexOf('--pid-file') + 1] as string] : []), ...more], { timeoutMs: 120_000 });
  t.after(async () => {
    if (alive(pid)) await stop(['--all']);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  return { pid, url, pidFile, logFile, stop };
}

/**
 * Resolves with the first line of `file` after `from` (a character offset) that matches
 * `re`: the file and its folder are watched, so the wait ends on the write itself. Bounded.
 */
export function waitForLine(file: string, re: RegExp, opts: { from?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (!existsSync(file)) return false;
      const line = readFileSync(file, 'utf8')
        .slice(opts.from ?? 0)
        .split('\n')
        .find((l) => re.test(l));
      if (line === undefined) return false;
      finish();
      resolve(line);
      return true;
    };
    const watcher = watch(dirname(file), (_e, name) => {
      if (name === null || name === basename(file)) check();
    });
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out waiting for ${re} in ${file}:\n${existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '(no file)'}`));
    }, opts.timeoutMs ?? 30_000);
    const finish = () => {
      clearTimeout(timer);
      watcher.close();
    };
    check();
  });
}

/** The size of a file now (0 when it does not exist): an offset for `waitForLine`. */
export function sizeOf(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').length : 0;
}
