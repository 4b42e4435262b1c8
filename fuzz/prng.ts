/**
 * A small seeded PRNG (mulberry32) for the fuzzer: each delivery gets its own generator from
 * (run seed, delivery index), so one delivery can be made again alone from the two numbers a
 * failure prints (`npm run fuzz -- --seed S --only N`).
 */
export class Rng {
  private state: number;

  constructor(seed: number, index = 0) {
    // splitmix-like mixing, so neighbouring indexes start far apart.
    let s = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** A uint32. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }

  /** One of `weights`' keys, with the probability its weight says. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.int(entries.reduce((s, [, w]) => s + w, 0));
    for (const [k, w] of entries) {
      if (r < w) return k;
      r -= w;
    }
    return (entries[0] as [K, number])[0];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.next().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}
