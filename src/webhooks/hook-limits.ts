import type { HookRates } from '../config/schema.js';
import { RateTable, MAX_KEYS } from '../lib/rate-table.js';

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
}

const FAILURE_SET = new Set<string>(AUTH_FAILURES);

export function isAuthFailure(outcome: string): outcome is AuthFailure {
  return FAILURE_SET.has(outcome);
}

export class HookLimits {
  private readonly failures: RateTable | null;
  private readonly addresses: RateTable | null;
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
    this.failures = rates.failed_auth ? new RateTable(rates.failed_auth, maxKeys) : null;
    this.addresses = rates.per_address ? new RateTable(rates.per_address, maxKeys) : null;
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
  admit(address: string): Refusal | null {
    if (this.addresses === null) return null;
    const wait = this.addresses.take(address, this.now());
    return wait > 0 ? this.refuse('per_address', wait) : null;
  }

  /**
   * Milliseconds until this address (key) has a failed authentication left for this repo
   * (`scope`: the configured repo of /hooks/REPO, else ''); 0 when it has one. Counts nothing:
   * a delivery past failed_auth is still verified (a host's shared address sends genuine
   * deliveries too) and refused only when it fails (`lockedOut`).
   */
  lockWait(address: string, scope: string): number {
    if (this.failures === null || this.failures.size === 0) return 0;
    return this.failures.wait(scope === '' ? address : `${address} ${scope}`, this.now());
  }

  /** A delivery past failed_auth (lockWait) failed to authenticate again: refused, not counted as one more. */
  lockedOut(waitMs: number): Refusal {
    return this.refuse('failed_auth', waitMs);
  }

  /** A delivery from `address` for `scope` failed to authenticate (`reason`). */
  failed(address: string, scope: string, reason: AuthFailure): void {
    this.authFailures[reason]++;
    this.failures?.charge(scope === '' ? address : `${address} ${scope}`, this.now());
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

  private refuse(limit: LimitName, waitMs: number): Refusal {
    this.limited[limit]++;
    return { limit, waitMs };
  }
}
