import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { AppDeps } from './deps.js';
import type { Decision } from '../webhooks/receive.js';
import { isAuthFailure, WIDE_FACTOR, type AddressKeys, type HookLimits, type LimitName, type Refusal } from '../webhooks/hook-limits.js';
import type { RateSpec } from '../lib/rate-table.js';
import { addressKey, wideAddressKey } from './limits.js';

/** A refused delivery is recorded (ledger and log) at most once per limit in this window; the others are only counted. */
export const SUMMARY_MS = 10_000;

type Record429 = (req: FastifyRequest, status: number, outcome: string, message: string) => void;

/** The keys an address counts under: an IPv4 address as it is; an IPv6 one by its /64 and its /48 (hook-limits.ts AddressKeys). */
function keysOf(address: string): AddressKeys {
  return address.includes(':') ? { key: addressKey(address), wide: wideAddressKey(address) } : { key: address, wide: null };
}

function formatRate(rate: RateSpec | null): string {
  if (rate === null) return 'off';
  const p = rate.periodMs;
  const period = p % 3_600_000 === 0 ? `${p / 3_600_000}h` : p % 60_000 === 0 ? `${p / 60_000}m` : p % 1000 === 0 ? `${p / 1000}s` : `${p}ms`;
  return `${rate.count}/${period}`;
}

/**
 * The rate limits (webhooks/hook-limits.ts) on the routes /hooks and /hooks/REPO:
 * `onRequest` runs before the body is read and answers 429 with Retry-After for an address
 * past per_address, so a flood costs no body parse, no MAC and no write; an address past
 * failed_auth is still verified (one MAC, no parse) and answered 429 only when it fails
 * again. `judge` runs after the pipeline decided, counts a failed authentication, and
 * refuses a delivery that would queue jobs for a repo past per_repo.
 *
 * A refused delivery is not written to the ledger one by one: the first of each 10 s
 * (per limit) is, with a log line, saying how many were refused since the last one;
 * autopull_rate_limited_total counts every one.
 */
export class HookGuard {
  private readonly summary: Record<LimitName, { skipped: number; at: number }> = {
    failed_auth: { skipped: 0, at: -Infinity },
    per_address: { skipped: 0, at: -Infinity },
    per_repo: { skipped: 0, at: -Infinity },
  };

  constructor(
    private readonly deps: AppDeps,
    private readonly limits: HookLimits,
    private readonly record: Record429,
  ) {}

  /** The repo a failed authentication counts for: the configured repo of /hooks/REPO, else '' (also for a name that is no repo). */
  private scope(req: FastifyRequest): string {
    const repo = (req.params as { repo?: string } | undefined)?.repo;
    return repo !== undefined && this.deps.config.repos.has(repo as never) ? repo : '';
  }

  /** Requests whose address was past failed_auth when they came (the milliseconds it had to wait). */
  private readonly locked = new WeakMap<FastifyRequest, { waitMs: number; wide?: string }>();

  readonly onRequest = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!this.limits.enabled) return done();
    const keys = keysOf(req.clientAddress);
    // Past failed_auth the delivery is still read and verified, for a host's shared address
    // (GitHub's) sends genuine deliveries too: another customer's forged ones must not refuse
    // yours. Only a failure is refused (not written one by one), and it does not count
    // against per_address either, so such a flood cannot use up the shared address's.
    const lock = this.limits.lockWait(keys, this.scope(req));
    if (lock.waitMs > 0) {
      this.locked.set(req, lock);
      return done();
    }
    const refusal = this.limits.admit(keys);
    if (refusal !== null) return this.refuse(req, reply, refusal, this.scope(req));
    done();
  };

  /** After the decision: true when it answered (429) instead of the decision. */
  judge(req: FastifyRequest, reply: FastifyReply, decision: Decision): boolean {
    if (!decision.ok) {
      if (!isAuthFailure(decision.outcome)) return false;
      const lock = this.locked.get(req);
      if (lock !== undefined) {
        this.refuse(req, reply, this.limits.lockedOut(lock), this.scope(req));
        return true;
      }
      this.limits.failed(keysOf(req.clientAddress), this.scope(req), decision.outcome);
      return false;
    }
    if (decision.enqueue.length === 0) return false;
    const refusal = this.limits.admitJobs(decision.enqueue.map((e) => e.repo));
    if (refusal === null) return false;
    this.refuse(req, reply, refusal, decision.enqueue.map((e) => e.repo).join(', '));
    return true;
  }

  private refuse(req: FastifyRequest, reply: FastifyReply, refusal: Refusal, scope: string): void {
    const seconds = Math.max(1, Math.ceil(refusal.waitMs / 1000));
    const setting = `limits.rate.${refusal.limit}: ${formatRate(this.limits.rates[refusal.limit])}`;
    const address = req.clientAddress;
    const what =
      refusal.limit === 'failed_auth'
        ? `too many failed authentications from ${address}${scope ? ` for repo ${scope}` : ''}`
        : refusal.limit === 'per_address'
          ? `too many deliveries from ${address}`
          : `too many deliveries that queue jobs for repo ${scope}`;
    const wide = refusal.wide === undefined ? '' : `; counted for its /48 ${refusal.wide}, which may have ${WIDE_FACTOR} times the rate`;
    const message = `${what} (${setting}${wide}); try again in ${seconds} s`;
    this.summarise(req, refusal.limit, message);
    void reply.code(429).header('retry-after', String(seconds)).send({ ok: false, error: 'rate_limited', message });
  }

  /** The first refusal of a window is logged and recorded with the count of those refused since; the rest are only counted. */
  private summarise(req: FastifyRequest, limit: LimitName, message: string): void {
    const s = this.summary[limit];
    const now = Date.now();
    if (now - s.at < SUMMARY_MS) {
      s.skipped++;
      return;
    }
    const note = s.skipped > 0 ? `; ${s.skipped} more refused by this limit since the last such record were not recorded one by one` : '';
    // Behind a proxy that autopull does not trust, every client counts as the proxy: one flood limits all.
    const proxied = this.deps.config.trust_proxy === false && req.headers['x-forwarded-for'] !== undefined;
    const hint = proxied ? ` (this request came with X-Forwarded-For, but trust_proxy is false: behind a proxy, every client counts as the proxy's address ${req.clientAddress}; set trust_proxy)` : '';
    req.log.warn({ address: req.clientAddress, limit, refused_unrecorded: s.skipped }, `${message}${note}${hint}`);
    this.record(req, 429, 'rate_limited', `${message}${note}`);
    s.skipped = 0;
    s.at = now;
  }
}
