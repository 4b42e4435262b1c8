/**
 * Durations as users write them: `500ms`, `30s`, `10m`, `2h`, `1d`, or combined `1m30s`.
 * A bare number is seconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : null;
  const s = input.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) return null;
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Sizes: `512KiB`, `5MiB`, `5mb` (binary units), or a number of bytes. */
export function parseSize(input: string | number): number | null {
  if (typeof input === 'number') return Number.isInteger(input) && input > 0 ? input : null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(input.trim());
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] || 'b').toLowerCase()];
  return unit ? Math.round(Number(m[1]) * unit) : null;
}

/** A rate as users write it: `10/1m` is 10 in any minute (a burst of 10, then one every 6 s). */
export interface Rate {
  count: number;
  periodMs: number;
}

/** `N/DURATION` (10/1m, 600/1m, 5/30s), or null when it is not one. */
export function parseRate(input: string): Rate | null {
  const m = /^\s*(\d{1,9})\s*\/\s*(\S+)\s*$/.exec(input);
  if (!m) return null;
  const count = Number(m[1]);
  const periodMs = parseDuration(m[2] as string);
  if (count < 1 || periodMs === null || periodMs < 1) return null;
  return { count, periodMs };
}
