/** A rate: `count` in any `periodMs` (config/duration.ts parseRate). */
export interface RateSpec {
  count: number;
  periodMs: number;
}

/** Keys kept by one table at most: past it, expired keys go first, then the oldest. */
export const MAX_KEYS = 10_000;

/**
 * Token buckets per key, kept as one number each (GCRA: the time at which the key's bucket
 * is full again). A key holds `count` tokens at most and gets one back every
 * periodMs / count, so `10/1m` allows a burst of 10, then one every 6 s. A full bucket is
 * the same as no entry: such entries are swept, so the table holds only keys seen lately,
 * and never more than `maxKeys` (a flood of new keys evicts the oldest first).
 *
 * Every call is O(1) but for a sweep, which runs at most once per period (or when the
 * table is full) and then frees at least an eighth of the table.
 */
export class RateTable {
  private readonly full = new Map<string, number>();
  private readonly interval: number;
  private readonly span: number;
  private nextSweep = 0;

  constructor(
    rate: RateSpec,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.interval = rate.periodMs / rate.count;
    this.span = rate.periodMs;
  }

  get size(): number {
    return this.full.size;
  }

  /** Milliseconds until `key` may have one more (0: now). Counts nothing. */
  wait(key: string, now: number): number {
    if (this.full.size === 0) return 0;
    const at = this.full.get(key);
    if (at === undefined) return 0;
    const over = at + this.interval - now - this.span;
    return over > 0 ? over : 0;
  }

  /** Takes one for `key` when it has one (returns 0); else counts nothing and returns the milliseconds to wait. */
  take(key: string, now: number): number {
    const at = this.full.get(key);
    const next = (at === undefined || at < now ? now : at) + this.interval;
    const over = next - now - this.span;
    if (over > 0) return over;
    this.set(key, next, now, at === undefined);
    return 0;
  }

  /** Counts one for `key` whether or not it had one left (something that already happened): an empty bucket stays empty. */
  charge(key: string, now: number): void {
    const at = this.full.get(key);
    const next = Math.min((at === undefined || at < now ? now : at) + this.interval, now + this.span);
    this.set(key, next, now, at === undefined);
  }

  private set(key: string, value: number, now: number, added: boolean): void {
    if (added && (now >= this.nextSweep || this.full.size >= this.maxKeys)) this.sweep(now);
    this.full.set(key, value);
  }

  /**
   * Drops full buckets; when the table was full, the oldest keys too, down to 7/8 of it, so a
   * sweep for a full table frees an eighth even when a key or two had expired (else keys paced
   * to expire one per insert made every insert walk the whole table).
   */
  private sweep(now: number): void {
    this.nextSweep = now + Math.max(this.span, 1000);
    const wasFull = this.full.size >= this.maxKeys;
    for (const [key, at] of this.full) if (at <= now) this.full.delete(key);
    const keep = Math.floor((this.maxKeys * 7) / 8);
    if (!wasFull) return;
    for (const key of this.full.keys()) {
      if (this.full.size <= keep) break;
      this.full.delete(key);
    }
  }
}
