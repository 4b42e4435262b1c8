/** Retry delay after `failures` consecutive failures: 30 s, doubling, at most 30 min. */
export function backoffMs(failures: number, baseMs = 30_000, maxMs = 30 * 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures, 30) - 1));
}
