import { spawn } from 'node:child_process';
import { childEnv } from './child-env.js';
import { scrub } from './redact.js';

/**
 * The one way autopull runs a process: argv only, never a shell built from data.
 * User-written commands (`build:`, `restart:`) go through `runShell`, which passes the
 * line to `sh -c` as one argument; payload values reach it only through `env`.
 *
 * Children run in their own process group so that a timeout, an abort or a shutdown
 * stops the whole tree (a build's `npm` and its grandchildren), not just `sh`.
 */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to stdin, which is then closed; a promise is written when it resolves (null: closed with nothing). */
  input?: string | Buffer | Promise<string | Buffer | null>;
  /** Called with each complete line of output as it arrives. */
  onLine?: (stream: 'out' | 'err', line: string) => void;
  /** Called once the child exists, with its pid (= its process group id). */
  onSpawn?: (pid: number) => void;
  /** Text to show instead of the argv in error messages (to hide credentials). */
  display?: string;
  /** Treat these exit codes as success. */
  okCodes?: number[];
  /** Strings (credentials) replaced by *** in error messages and in lines given to onLine. */
  secrets?: readonly string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 4 * 1024 * 1024;
const KILL_GRACE_MS = 5000;

export class ExecError extends Error {
  override name = 'ExecError';
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  constructor(message: string, fields: { code: number | null; stdout: string; stderr: string; timedOut: boolean; aborted: boolean }) {
    super(message);
    this.code = fields.code;
    this.stdout = fields.stdout;
    this.stderr = fields.stderr;
    this.timedOut = fields.timedOut;
    this.aborted = fields.aborted;
  }
}

export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Sends `sig` to the process group of `pid`; ignores a group that is gone already. */
export function killGroup(pid: number, sig: NodeJS.Signals = 'SIGTERM'): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Collects a child's output (capped at MAX_CAPTURE) and hands complete lines to onLine. */
function outputCollector(opts: RunOptions) {
  const captured = { out: '', err: '' };
  const partial = { out: '', err: '' };
  const secrets = opts.secrets ?? [];
  return {
    captured,
    take: (stream: 'out' | 'err') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (captured[stream].length < MAX_CAPTURE) captured[stream] += text;
      if (!opts.onLine) return;
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) opts.onLine(stream, scrub(line.replace(/\r$/, ''), secrets));
    },
    /** Hands the unterminated last lines to onLine, once the child has closed its streams. */
    flush: () => {
      if (!opts.onLine) return;
      if (partial.out) opts.onLine('out', scrub(partial.out, secrets));
      if (partial.err) opts.onLine('err', scrub(partial.err, secrets));
    },
  };
}

/** Why a run failed, as its error message says it: "timed out after 5s", "exit 128", ... */
function failureReason(state: { timedOut: boolean; aborted: boolean }, exit: number, signal: NodeJS.Signals | null, timeoutMs: number | undefined): string {
  if (state.timedOut) return `timed out after ${formatMs(timeoutMs ?? 0)}`;
  if (state.aborted) return 'aborted';
  return signal ? `killed by ${signal}` : `exit ${exit}`;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const shown = opts.display ?? describeCommand(cmd, args);
  const secrets = opts.secrets ?? [];
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ExecError(`${shown}: aborted before start`, { code: null, stdout: '', stderr: '', timedOut: false, aborted: true }));
      return;
    }
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const state = { timedOut: false, aborted: false };
    let killTimer: NodeJS.Timeout | undefined;

    const stop = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          state.timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
    const onAbort = () => {
      state.aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    const output = outputCollector(opts);
    const fields = (code: number | null) => ({ code, stdout: output.captured.out, stderr: output.captured.err, ...state });
    child.stdout.on('data', output.take('out'));
    child.stderr.on('data', output.take('err'));
    child.stdin.on('error', () => {});
    if (opts.input instanceof Promise) {
      opts.input.then(
        (data) => child.stdin.end(data ?? undefined),
        () => child.stdin.end(),
      );
    } else if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);

    child.on('error', (err) => {
      settle();
      reject(new ExecError(scrub(`${shown}: ${err.message}`, secrets), fields(null)));
    });
    child.on('close', (code, signal) => {
      settle();
      output.flush();
      const exit = code ?? -1;
      const { out: stdout, err: stderr } = output.captured;
      if (!state.timedOut && !state.aborted && (exit === 0 || opts.okCodes?.includes(exit))) {
        resolve({ code: exit, stdout, stderr });
        return;
      }
      const tail = lastLines(stderr || stdout, 5);
      const why = failureReason(state, exit, signal, opts.timeoutMs);
      reject(new ExecError(scrub(`${shown}: ${why}${tail ? `: ${tail}` : ''}`, secrets), fields(code)));
    });
  });
}

/** A process started ahead of its command (`runGated`). */
export interface Gated {
  /** Execs the command in the waiting process; resolves or rejects as `run` would have. Once. */
  go(): Promise<RunResult>;
  /** Lets the waiting process go without running anything; resolves once it has exited. A no-op after `go`. */
  cancel(): Promise<void>;
}

/** Waits for "go" on stdin, then becomes its arguments (argv as given: no shell text); else exits 0. */
const GATE = 'IFS= read -r go || exit 0; [ "$go" = go ] || exit 0; exec "$@"';

/**
 * `run(cmd, args, opts)` whose process starts now and execs `cmd` only at `go()`: a Node
 * process blocks until each child it spawns has exec'd (2 ms quiet, 5-10 ms under load), and
 * this moves that wait to a moment when other work runs (a deploy's checkout). `onSpawn`
 * gets the pid now; the process keeps it across the exec. Its stdin is closed at `go()`.
 */
export function runGated(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'input'> = {}): Gated {
  const fed = runFed('sh', ['-c', GATE, 'gated', cmd, ...args], { ...opts, display: opts.display ?? describeCommand(cmd, args) });
  let used = false;
  return {
    go() {
      if (used) return Promise.reject(new Error(`${opts.display ?? cmd}: started twice`));
      used = true;
      fed.send('go\n');
      return fed.done;
    },
    async cancel() {
      if (used) return;
      used = true;
      fed.send(null);
      await fed.ended;
    },
  };
}

/** A process whose stdin is given later (`runFed`). */
export interface Fed {
  /** Writes `input` to stdin and closes it (null: closes it with nothing). The first call counts. */
  send(input: string | null): void;
  /** As `run` resolves or rejects. */
  done: Promise<RunResult>;
  /** Resolves once the process has ended, however. */
  ended: Promise<void>;
}

/** `run` with its stdin written when the caller knows what to write. */
export function runFed(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'input'> = {}): Fed {
  let send: (input: string | null) => void = () => {};
  const input = new Promise<string | null>((resolve) => (send = resolve));
  const done = run(cmd, args, { ...opts, input });
  const ended = done.then(
    () => undefined,
    () => undefined,
  );
  return { send, done, ended };
}

/** Runs a user-written command line with `sh -c`; the line is one argv element, data goes in `env`. */
export function runShell(line: string, opts: RunOptions = {}): Promise<RunResult> {
  return run('sh', ['-c', line], { ...opts, display: opts.display ?? line });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 1000);
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
