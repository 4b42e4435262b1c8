import { createHash, randomBytes } from 'node:crypto';

export interface LoginLinkOptions {
  /** A link not used within this long is refused. */
  ttlMs: number;
  /** Links kept at most (past it the oldest goes). */
  max: number;
}

export const LOGIN_LINK_DEFAULTS: LoginLinkOptions = { ttlMs: 10 * 60_000, max: 100 };

interface Pending {
  /** sha256 of the token the link was made with: the session it opens is that token's. */
  tokenHash: string;
  expiresAt: number;
}

const digest = (code: string) => createHash('sha256').update(code).digest('hex');

/**
 * One-time login links (`/login?once=CODE`, what `autopull demo` prints): a random code,
 * good for one use within `ttlMs`, exchanged for a session cookie, then useless. Only the
 * code's hash is kept, in this process's memory (a restart forgets the links, as it ends the
 * sessions).
 */
export class LoginLinks {
  private readonly map = new Map<string, Pending>();

  constructor(
    private readonly o: LoginLinkOptions = LOGIN_LINK_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new code for the holder of the token whose hash is given; returns it with its end. */
  issue(tokenHash: string): { code: string; expiresAt: Date } {
    if (this.map.size >= this.o.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.o.ttlMs;
    this.map.set(digest(code), { tokenHash, expiresAt });
    return { code, expiresAt: new Date(expiresAt) };
  }

  /** The token hash of a code not used before and not expired, which is then gone; else null. */
  take(code: string): string | null {
    if (code.length === 0 || code.length > 100) return null;
    const key = digest(code);
    const p = this.map.get(key);
    if (!p) return null;
    this.map.delete(key);
    return this.now() <= p.expiresAt ? p.tokenHash : null;
  }

  get size(): number {
    return this.map.size;
  }
}
