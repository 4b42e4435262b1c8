import { readFileSync } from 'node:fs';

const FD_FALLBACK = 1024;

/** The soft "Max open files" of /proc/self/limits, or null when the text has none. */
export function parseOpenFileLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return null;
  if (m[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(m[1]);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** This process's open-file limit (`ulimit -n`): read from /proc on Linux, else 1024, the common default. */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    return parseOpenFileLimit(read()) ?? FD_FALLBACK;
  } catch {
    return FD_FALLBACK;
  }
}
