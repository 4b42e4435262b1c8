import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { isRunning, processStartTime } from '../lib/proc.js';

/**
 * data_dir/runtime.lock, held by a runtime while it starts (the pid check, the socket, the pid
 * file), so two runtimes started at once (two serves on one data_dir) do not both listen: the
 * second waits, then finds the first running. The lock is made whole or not at all (a link of
 * a written file). One left by a starter that died is taken over; two starters that both find
 * it stale at the same instant may both take it (that needs a crash in a start first).
 *
 * Resolves with the release function; rejects when a live holder keeps it past `waitMs`.
 */
export async function takeStartLock(file: string, waitMs: number): Promise<() => void> {
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) })}\n`, { mode: 0o600 });
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      try {
        linkSync(mine, file);
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = lockHolder(file);
      if (holder === 'gone') continue;
      if (holder === null) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new Error(`another runtime (pid ${holder}) has been starting for ${waitMs} ms; if it hangs, stop it (kill ${holder})`);
      await delay(20);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/** The live process holding the lock; null when nobody does (it died, or junk); `gone` when the lock was just released. */
function lockHolder(file: string): number | null | 'gone' {
  try {
    const { pid, start } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; start: string | null };
    return Number.isInteger(pid) && pid !== process.pid && isRunning(pid, start) ? pid : null;
  } catch (err) {
    // Removed meanwhile: try again. Unreadable junk: nobody holds it.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
}
