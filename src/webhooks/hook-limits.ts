import type { HookRates } from '../config/schema.js';
import { RateTable, MAX_KEYS, type RateSpec } from '../lib/rate-table.js';

/**
 * The rate limits of the webhook routes (limits.rate), apart from HTTP: the routes ask
 * before a request's body is read (`admit`), count a refused credential after the decision
 * (`failed`), and ask again before queuing jobs (`admitJobs`). Counts for the metrics are
 * plain numbers, read at scrape time: nothing here allocates per request but a new key.
 */

/** Outcomes counted as failed authentications: no valid credential, or not from an allowed address, or for nothing configured. */
export const AUTH_FAILURES = ['signature_missing', 'token_missing', 'signature_mismatch', 'token_mismatch', 'ip_not_allowed', 'unknown_repo', 'no_matching_repo', 'unknown_sender'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export const LIMIT_NAMES = ['failed_auth', 'per_address', 'per_repo'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

export interface Refusal {
  limit: LimitName;
  /** Milliseconds until one more would be admitted. */
  waitMs: number;
  /** The IPv6 /48 whose count refused it, when it was that count and not the address's own. */
  wide?: string;
}

/**
 * How a client address counts: under its own key (an IPv4 address, or an IPv6 /64, the
 * smallest block one holder gets) and, for IPv6, under its /48 too, at WIDE_FACTOR times
 * each rate: whoever holds a /48 has 65,536 /64s to rotate through, and would otherwise
 * get 65,536 times every per-address limit.
 */
export interface AddressKeys {
  key: string;
  wide: string | null;
}

/** An IPv6 /48 may have this many times what one address (/64) may. */
export const WIDE_FACTOR = 4;

const FAILURE_SET = new Set<string>(AUTH_FAILURES);

export function isAuthFailure(outcome: string): outcome is AuthFailure {
  return FAILURE_SET.has(outcome);
}

/** A table per key and one per /48 (at WIDE_FACTOR times the rate), or null when the limit is off. */
class Tiered {
  readonly own: RateTable;
  readonly wide: RateTable;

  constructor(rate: RateSpec, maxKeys: number) {
    this.own = new RateTable(rate, maxKeys);
    this.wide = new RateTable({ count: rate.count * WIDE_FACTOR, periodMs: rate.periodMs }, maxKeys);
  }

  /** Milliseconds until `a` (with the scope suffix) may have one more, and whether its /48 is why. */
  wait(a: AddressKeys, suffix: string, now: number): { waitMs: number; wide?: string } {
    const own = this.own.size === 0 ? 0 : this.own.wait(a.key + suffix, now);
    const wide = a.wide === null || this.wide.size === 0 ? 0 : this.wide.wait(a.wide + suffix, now);
    return wide > own ? { waitMs: wide, wide: a.wide as string } : { waitMs: own };
  }
}

export class HookLimits {
  private readonly failures: Tiered | null;
  private readonly addresses: Tiered | null;
  private readonly repos: RateTable | null;
  /** Failed authentications by reason, since start. */
  readonly authFailures: Record<AuthFailure, number> = Object.fromEntries(AUTH_FAILURES.map((r) => [r, 0])) as Record<AuthFailure, number>;
  /** Deliveries refused with 429, by the limit that refused them, since start. */
  readonly limited: Record<LimitName, number> = { failed_auth: 0, per_address: 0, per_repo: 0 };

  constructor(
    readonly rates: HookRates,
    private readonly now: () => number = Date.now,
    maxKeys = MAX_KEYS,
  ) {
    this.failures = rates.failed_auth ? new Tiered(rates.failed_auth, maxKeys) : null;
    this.addresses = rates.per_address ? new Tiered(rates.per_address, maxKeys) : null;
    this.repos = rates.per_repo ? new RateTable(rates.per_repo, maxKeys) : null;
  }

  /** Whether any limit is on (else the routes need not even compute an address key). */
  get enabled(): boolean {
    return this.failures !== null || this.addresses !== null || this.repos !== null;
  }

  /**
   * Before anything of a delivery is read: refused when its address (key) used up its
   * deliveries in all (per_address); an admitted delivery counts against it.
   */
  admit(a: AddressKeys): Refusal | null {
    if (this.addresses === null) return null;
    const now = this.now();
    const wide = a.wide === null ? 0 : this.addresses.wide.wait(a.wide, now);
    if (wide > 0) return this.refuse('per_address', wide, a.wide as string);
    const wait = this.addresses.own.take(a.key, now);
    if (wait > 0) return this.refuse('per_address', wait);
    if (a.wide !== null) this.addresses.wide.take(a.wide, now);
    return null;
  }

  /**
   * Milliseconds until this address (key) has a failed authentication left for this repo
   * (`scope`: the configured repo of /hooks/REPO, else ''); 0 when it has one. Counts nothing:
   * a delivery past failed_auth is still verified (a host's shared address sends genuine
   * deliveries too) and refused only when it fails (`lockedOut`).
   */
  lockWait(a: AddressKeys, scope: string): { waitMs: number; wide?: string } {
    if (this.failures === null) return { waitMs: 0 };
    return this.failures.wait(a, scope === '' ? '' : ` ${scope}`, this.now());
  }

  /** A delivery past failed_auth (lockWait) failed to authenticate again: refused, not counted as one more. */
  lockedOut(lock: { waitMs: number; wide?: string }): Refusal {
    return this.refuse('failed_auth', lock.waitMs, lock.wide);
  }

  /** A delivery from `a` for `scope` failed to authenticate (`reason`): counted for the address and its /48. */
  failed(a: AddressKeys, scope: string, reason: AuthFailure): void {
    this.authFailures[reason]++;
    if (this.failures === null) return;
    const suffix = scope === '' ? '' : ` ${scope}`;
    const now = this.now();
    this.failures.own.charge(a.key + suffix, now);
    if (a.wide !== null) this.failures.wide.charge(a.wide + suffix, now);
  }

  /** Before queuing jobs for these repos: refused when one of them used up per_repo (then none is counted), else one is counted for each. */
  admitJobs(repos: readonly string[]): Refusal | null {
    if (this.repos === null || repos.length === 0) return null;
    const now = this.now();
    let wait = 0;
    for (const r of repos) wait = Math.max(wait, this.repos.wait(r, now));
    if (wait > 0) return this.refuse('per_repo', wait);
    for (const r of repos) this.repos.take(r, now);
    return null;
  }

  private refuse(limit: LimitName, waitMs: number, wide?: string): Refusal {
    this.limited[limit]++;
    return wide === undefined ? { limit, waitMs } : { limit, waitMs, wide };
  }
}
