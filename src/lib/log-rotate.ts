import { renameSync, statSync } from 'node:fs';

/**
 * Moves `file` to `file.1` (replacing an older `.1`) when it is over `maxBytes`, so a log that
 * a long-lived process appends to across many starts keeps at most about twice that on disk.
 * For logs opened by their writer at start (the runtime's); missing files are left alone.
 */
export function rotateIfLarge(file: string, maxBytes: number): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  renameSync(file, `${file}.1`);
  return true;
}
