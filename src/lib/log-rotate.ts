import { constants, copyFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';

/**
 * Moves `file` to `file.1` (replacing an older `.1`) when it is over `maxBytes`, so a log that
 * a long-lived process appends to across many starts keeps at most about twice that on disk.
 * For logs opened by their writer at start (the runtime's); missing files are left alone.
 */
export function rotateIfLarge(file: string, maxBytes: number): boolean {
  if (!overSize(file, maxBytes)) return false;
  renameSync(file, `${file}.1`);
  return true;
}

/** Whether `file` is there and over `maxBytes`. */
function overSize(file: string, maxBytes: number): boolean {
  try {
    return statSync(file).size > maxBytes;
  } catch {
    return false;
  }
}

/** A running app's log is kept to about this size (and as much again in its `.1`). */
export const APP_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * For a log that a running process appends to through a descriptor it holds (an app's
 * stdout and stderr, opened O_APPEND): over `maxBytes`, its content goes to `file.1`
 * (replacing the older one) and the file is truncated in place, so the writer goes on at
 * its start (logrotate's copytruncate). What the app writes between the copy and the
 * truncation, a few ms, is lost. The copy is made under a fresh name and renamed over
 * `.1`: a symlink planted there is replaced, never followed. When the copy fails, the file is
 * truncated anyway and the error thrown.
 */
export function copyTruncateIfLarge(file: string, maxBytes: number): boolean {
  if (!overSize(file, maxBytes)) return false;
  const tmp = `${file}.1.${process.pid}.tmp`;
  try {
    rmSync(tmp, { force: true });
    copyFileSync(file, tmp, constants.COPYFILE_EXCL);
    renameSync(tmp, `${file}.1`);
  } catch (err) {
    // No room for the copy (a full disk, likely this log's doing): the log is cut all the
    // same, its old content lost, for the disk's bound comes first.
    rmSync(tmp, { force: true });
    truncateSync(file, 0);
    throw err;
  }
  truncateSync(file, 0);
  return true;
}

/**
 * The logs of running apps, each checked every `everyMs` (one unref'd timer for all) and
 * cut by copyTruncateIfLarge: an app that prints without end cannot fill the disk. A file
 * is checked while anything watches it (two instances of one release share a log).
 */
export class LogCaps {
  private readonly files = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxBytes = APP_LOG_MAX_BYTES,
    private readonly everyMs = 2000,
    private readonly onError: (file: string, err: unknown) => void = () => undefined,
  ) {}

  /** Checks `file` from now on; the function returned stops that (once). */
  watch(file: string): () => void {
    this.files.set(file, (this.files.get(file) ?? 0) + 1);
    this.timer ??= setInterval(() => this.check(), this.everyMs).unref();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.files.get(file) ?? 1) - 1;
      if (left > 0) this.files.set(file, left);
      else this.files.delete(file);
      if (this.files.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Cuts every watched file over the limit now; returns those it cut. */
  check(): string[] {
    const cut: string[] = [];
    for (const file of this.files.keys()) {
      try {
        if (copyTruncateIfLarge(file, this.maxBytes)) cut.push(file);
      } catch (err) {
        this.onError(file, err);
      }
    }
    return cut;
  }
}

/** The process's one LogCaps for app logs (the runtime's instances, serve's supervised apps). */
export const appLogCaps = new LogCaps();
