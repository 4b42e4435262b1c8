import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type { PinoPretty as PinoPrettyFn } from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `--log-level`, else $AUTOPULL_LOG_LEVEL, else info; null when the word is not a level. */
export function logLevel(option: string | undefined, env: NodeJS.ProcessEnv = process.env): LogLevel | null {
  const level = (option ?? env.AUTOPULL_LOG_LEVEL ?? 'info').toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : null;
}

/** JSON lines on stdout (or a file descriptor), one logger for the whole daemon. */
export function createLogger(level = process.env.AUTOPULL_LOG_LEVEL ?? 'info', destination?: number | string): Logger {
  return pino({ level, base: { name: 'autopull' } }, destination === undefined ? undefined : pino.destination(destination));
}

export interface LogHandle {
  logger: Logger;
  /** The log file, or null when the log goes to stdout. */
  file: string | null;
  /** Opens the log file again by its name (after logrotate moved it: SIGUSR2). No-op on stdout. */
  reopen(): void;
}

/**
 * The server's log: pino JSON lines, one object per line, to `file` (appended, owner-only,
 * reopened by `reopen`) or to stdout. On a terminal (stdout a TTY and no file) the same
 * lines are shown by pino-pretty, in colour; piped or redirected they stay JSON, so a
 * machine reading them (journald, a log shipper) gets what it can parse.
 *
 * Lines are written synchronously once per event-loop turn (TurnBatch): a flood of deliveries
 * costs one write per turn, not one per line, and a line logged just before an exit (or an
 * uncaught exception) is still on disk, since pending lines are written on 'exit'. Only a
 * SIGKILL can lose lines, those of the turn it interrupts.
 */
export function openLog(opts: { level: LogLevel; file?: string; pretty?: boolean }): LogHandle {
  const base = { level: opts.level, base: { name: 'autopull' } };
  if (opts.file !== undefined) {
    // Owner-only, like every file autopull keeps: a log holds what builds and apps print.
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    const dest = pino.destination({ dest: opts.file, append: true, sync: true, mode: 0o600 } as Parameters<typeof pino.destination>[0]);
    const batch = new TurnBatch(dest);
    return {
      logger: pino(base, batch),
      file: opts.file,
      reopen: () => {
        batch.flush();
        dest.reopen();
      },
    };
  }
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const dest: DestinationStream = pretty
    ? prettyStream()({ destination: 1, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' })
    : new TurnBatch(pino.destination({ dest: 1, sync: true }));
  return { logger: pino(base, dest), file: null, reopen: () => undefined };
}

/** Batches with lines not written yet: written on 'exit' (one listener for all). */
const unwritten = new Set<TurnBatch>();
/** 'listening' once the exit listener is on; 'exiting' once it ran: later lines (other exit listeners') are written at once. */
let exitState: 'none' | 'listening' | 'exiting' = 'none';

/**
 * A destination that collects the lines of one event-loop turn and writes them to `dest` in
 * one synchronous write, just after the turn (setImmediate), or on 'exit' when the process
 * ends first (process.exit, an uncaught exception). Under a flood of deliveries this turns a
 * write per line into a write per turn; an idle server still writes each line within
 * the turn that logged it.
 */
export class TurnBatch implements DestinationStream {
  private lines: string[] = [];

  constructor(private readonly dest: { write(text: string): unknown }) {}

  write(line: string): void {
    this.lines.push(line);
    if (exitState === 'exiting') return this.flush();
    if (this.lines.length > 1) return;
    if (exitState === 'none') {
      exitState = 'listening';
      process.on('exit', () => {
        exitState = 'exiting';
        for (const b of unwritten) b.flush();
      });
    }
    unwritten.add(this);
    setImmediate(this.flush);
  }

  /** Writes the lines collected so far (a no-op when there are none); pino's logger.flush(cb) calls it. */
  readonly flush = (cb?: unknown): void => {
    if (this.lines.length > 0) {
      const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
      this.lines = [];
      unwritten.delete(this);
      this.dest.write(text);
    }
    if (typeof cb === 'function') (cb as () => void)();
  };
}

/** pino-pretty, loaded only for a terminal: a server whose log is piped or in a file never pays for it. */
function prettyStream(): typeof PinoPrettyFn {
  return (createRequire(import.meta.url)('pino-pretty') as { PinoPretty: typeof PinoPrettyFn }).PinoPretty;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
