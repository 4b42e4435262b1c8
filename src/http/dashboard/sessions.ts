import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  /**
   * Sent back with every form (`_csrf`) and every browser API call that changes something
   * (X-CSRF-Token): the session's CSRF secret masked anew at each read (maskCsrf), so no
   * two pages, nor two places of one page, carry the same string.
   */
  readonly csrf: string;
  /** The secret every masked token stands for (csrfMatches). */
  readonly csrfSecret: Buffer;
  createdAt: number;
  usedAt: number;
  /** sha256 of the token the login used: when the config stops taking that token, the session ends. */
  tokenHash: string;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface SessionOptions {
  /** A session unused this long is gone. */
  idleMs: number;
  /** A session is gone this long after the login, used or not. */
  maxAgeMs: number;
  /** Sessions kept at most; a new login past it ends the least recently used one. */
  max: number;
}

export const SESSION_DEFAULTS: SessionOptions = { idleMs: 2 * 3600_000, maxAgeMs: 12 * 3600_000, max: 1000 };

const randomToken = () => randomBytes(32).toString('base64url');

/**
 * A CSRF secret written into a page as pad + (pad XOR secret) with a fresh random pad: pages
 * are compressed and may show what others wrote (a delivery's message), and a string that
 * stayed the same beside it could be guessed a character at a time from the compressed
 * sizes (BREACH). Every masked form of the secret is accepted (csrfMatches).
 */
export function maskCsrf(secret: Buffer): string {
  const pad = randomBytes(secret.length);
  const out = Buffer.alloc(secret.length * 2);
  pad.copy(out);
  for (let i = 0; i < secret.length; i++) out[secret.length + i] = (pad[i] as number) ^ (secret[i] as number);
  return out.toString('base64url');
}

/** Whether `given` is a masked form of `secret` (maskCsrf), in constant time for a well-formed one. */
export function csrfMatches(given: string, secret: Buffer): boolean {
  if (given.length !== Math.ceil((secret.length * 2 * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(given)) return false;
  const raw = Buffer.from(given, 'base64url');
  if (raw.length !== secret.length * 2) return false;
  const plain = Buffer.alloc(secret.length);
  for (let i = 0; i < secret.length; i++) plain[i] = (raw[i] as number) ^ (raw[secret.length + i] as number);
  return timingSafeEqual(plain, secret);
}

/**
 * Dashboard sessions, in this process's memory only: a restart of the server logs everyone
 * out, and nothing about a session is on disk. The cookie holds the random id, nothing else.
 */
export class Sessions {
  private readonly map = new Map<string, Session>();

  constructor(
    private readonly o: SessionOptions = SESSION_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  create(token: string): Session {
    return this.createFor(tokenHash(token));
  }

  /** A session for the holder of the token with this hash (a one-time login link's). */
  createFor(hash: string): Session {
    const t = this.now();
    if (this.map.size >= this.o.max) {
      // Map order is insertion order, and get() re-inserts: the first is the least recently used.
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    const csrfSecret = randomBytes(32);
    const s: Session = {
      id: randomToken(),
      get csrf() {
        return maskCsrf(csrfSecret);
      },
      csrfSecret,
      createdAt: t,
      usedAt: t,
      tokenHash: hash,
    };
    this.map.set(s.id, s);
    return s;
  }

  /** The live session with this id (its use noted), or null. */
  get(id: string): Session | null {
    const s = this.map.get(id);
    if (!s) return null;
    const t = this.now();
    if (t - s.usedAt > this.o.idleMs || t - s.createdAt > this.o.maxAgeMs) {
      this.map.delete(id);
      return null;
    }
    s.usedAt = t;
    this.map.delete(id);
    this.map.set(id, s);
    return s;
  }

  destroy(id: string): void {
    this.map.delete(id);
  }

  get size(): number {
    return this.map.size;
  }

  /** Seconds a new session's cookie may live. */
  get cookieMaxAge(): number {
    return Math.floor(this.o.maxAgeMs / 1000);
  }
}

export interface LimiterOptions {
  /** Failed logins allowed per address within `windowMs`. */
  failures: number;
  windowMs: number;
  /** Addresses tracked at most (a flood of addresses forgets the oldest). */
  maxKeys: number;
}

/**
 * Failed logins per client address: past `failures` within the window, the address is
 * refused (429) until the window ends, even with the right token. A success clears it.
 */
export class LoginLimiter {
  private readonly map = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly o: LimiterOptions = { failures: 5, windowMs: 10 * 60_000, maxKeys: 10_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before trying again, or 0 when a try is allowed now. */
  retryAfter(key: string): number {
    const e = this.map.get(key);
    if (!e) return 0;
    const t = this.now();
    if (t >= e.until) {
      this.map.delete(key);
      return 0;
    }
    return e.count >= this.o.failures ? Math.ceil((e.until - t) / 1000) : 0;
  }

  failed(key: string): void {
    const t = this.now();
    const e = this.map.get(key);
    if (e && t < e.until) {
      e.count++;
      return;
    }
    if (this.map.size >= this.o.maxKeys) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, { count: 1, until: t + this.o.windowMs });
  }

  succeeded(key: string): void {
    this.map.delete(key);
  }
}
