import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from './deps.js';
import { AppError } from '../lib/errors.js';
import { receiveForRepo } from '../webhooks/receive.js';
import { isSimulatedSender, newSimulatedId, SIMULATED_HEADER, SIMULATED_SENDERS, simulatedDelivery } from '../webhooks/simulate.js';
import { recordDecision, storedHeaders, type Recorded } from './routes/hooks.js';

export interface SimulateRequest {
  repo: string;
  sender: string;
  ref: string;
  /** The operator's address: the delivery comes from there (allow_ips applies as to any). */
  remoteAddress: string;
  /** Who asked: "api" or "dashboard" (kept in the ledger's marker header). */
  by: string;
}

/**
 * A push as `sender` would deliver it, signed with the repo's secret, put through the same
 * steps as `POST /hooks/REPO`: the pipeline decides (sender detection, allow_ips, the
 * signature check, ref matching), the decision is recorded in the deliveries ledger with
 * its jobs, and the worker is kicked. The ledger row carries the X-Autopull-Simulated header
 * (who asked), which a real delivery cannot set. The answer is the hook's, plus `ledger_id`
 * and `simulated`.
 */
export function simulatePush(deps: AppDeps, log: FastifyBaseLogger, r: SimulateRequest): Recorded {
  const repo = deps.config.repos.get(r.repo as never);
  if (!repo) throw new AppError('unknown_repo', `no repo named "${r.repo.slice(0, 100)}" is configured`);
  if (!isSimulatedSender(r.sender)) {
    throw new AppError('unknown_sender', `sender "${r.sender.slice(0, 40)}" is not one autopull can simulate; known: ${SIMULATED_SENDERS.join(', ')}`);
  }
  if (repo.secret === null) {
    throw new AppError('conflict', `repo ${repo.name} has no secret (insecure: true), so there is nothing to sign a simulated delivery with; set secret: (or secret_file:) for it`);
  }
  const now = deps.now?.() ?? new Date();
  const id = newSimulatedId();
  const d = simulatedDelivery({ sender: r.sender, ref: r.ref, repoUrl: repo.url, secret: repo.secret, id, now, by: r.by });
  const raw = { headers: d.headers, rawBody: d.body, query: {}, remoteAddress: r.remoteAddress };
  const decision = receiveForRepo(raw, repo.name, { config: deps.config, now, isDuplicate: deps.store.isDuplicate.bind(deps.store) });
  const headers = { ...storedHeaders(d.headers), [SIMULATED_HEADER]: `${r.by} from ${r.remoteAddress}` };
  const out = recordDecision(deps, log, decision, raw, headers, { repoParam: repo.name });
  return { ...out, body: { ...out.body, ledger_id: out.ledgerId, simulated: { sender: r.sender, ref: r.ref, by: r.by } } };
}
