import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from './deps.js';
import { AppError } from '../lib/errors.js';
import { parseRepoName } from '../lib/ids.js';
import { receiveAny, receiveForRepo } from '../webhooks/receive.js';
import type { ProviderId } from '../config/schema.js';
import type { Delivery } from '../store/store.js';
import { recordDecision, type Recorded } from './routes/hooks.js';
import { REJECTED_BODY_LIMIT, REJECTED_HEADER_COUNT } from './cap-rejected.js';

/** Why a stored delivery cannot be redelivered, or null when it can. */
export function redeliverProblem(d: Pick<Delivery, 'id' | 'status_code' | 'outcome' | 'body_truncated'>): string | null {
  if (d.status_code === 401 || d.status_code === 403) {
    // Its sender never proved who it was: a redelivery would skip the check it failed.
    return `delivery ${d.id} failed authentication (${d.status_code} ${d.outcome}); only authenticated deliveries can be redelivered`;
  }
  if (d.body_truncated) {
    return `delivery ${d.id} cannot be redelivered: it was not stored whole (a rejected delivery keeps at most ${REJECTED_BODY_LIMIT / 1024} KiB of its body and ${REJECTED_HEADER_COUNT} headers, one over body_limit no body)`;
  }
  return null;
}

/**
 * Re-runs stored delivery `id` through the webhook pipeline on purpose, for an operator the
 * API token or a dashboard session (with its CSRF token) authenticated: `POST
 * /api/deliveries/:id/redeliver` and the dashboard's Redeliver button. A sender that keeps its
 * delivery id on redelivery (GitHub's X-GitHub-Delivery is one per event, kept by its own
 * Redeliver) would otherwise be refused as a duplicate, so only the duplicate check is
 * skipped, with allow_ips and the signature (which the original passed when it came: the
 * stored signature headers are redacted, and a delivery that failed authentication cannot be
 * redelivered). A replay of the same request to /hooks by anyone else is still a duplicate.
 * The result is a new ledger row with `redelivery_of` set; the answer is a hook's.
 */
export function redeliver(deps: AppDeps, log: FastifyBaseLogger, id: number, remoteAddress: string): Recorded {
  const d = deps.store.getDelivery(id);
  if (!d) throw new AppError('not_found', `no delivery ${id}`);
  const problem = redeliverProblem(d);
  if (problem !== null) throw new AppError('conflict', problem);
  const raw = { headers: d.headers, rawBody: d.body, query: {}, remoteAddress };
  const receiveDeps = {
    config: deps.config,
    now: deps.now?.() ?? new Date(),
    isDuplicate: () => false,
    redelivery: { provider: d.provider as ProviderId | null },
  };
  const repos = (d.repo ?? '').split(',').filter((r) => r !== '');
  const single = repos.length === 1 && parseRepoName(repos[0] as string) !== null ? (repos[0] as string) : null;
  const decision = single !== null ? receiveForRepo(raw, single, receiveDeps) : receiveAny(raw, receiveDeps);
  return recordDecision(deps, log, decision, raw, d.headers, { repoParam: single ?? undefined, redeliveryOf: id });
}
