import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { RepoName } from '../../lib/ids.js';
import type { AppDeps } from '../deps.js';
import { receiveAny, receiveForRepo, type Decision } from '../../webhooks/receive.js';
import type { WebhookRequest } from '../../webhooks/provider.js';
import { sendError } from '../reply.js';
import { capRejected, ledgerRecord } from '../cap-rejected.js';
import { SIMULATED_HEADER } from '../../webhooks/simulate.js';
import type { DeliveryRecord } from '../../store/store.js';
import { errorMessage } from '../../lib/errors.js';
import { HookGuard } from '../hook-guard.js';

/** Headers never stored in the ledger as sent: credentials and MACs (a MAC invites offline guessing of a weak secret). */
const REDACT = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-gitlab-token',
  'x-autopull-token',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitea-signature',
  'x-gogs-signature',
  'x-forgejo-signature',
  'webhook-signature',
]);

export function storedHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    // Only autopull's own simulation marks a delivery as simulated (http/simulate.ts).
    if (v === undefined || k === SIMULATED_HEADER) continue;
    out[k] = REDACT.has(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const NO_BODY = Buffer.alloc(0);

/** The delivery as the pipeline sees it; `withBody` false before the body was read. */
function toWebhookRequest(req: FastifyRequest, withBody = true): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return {
    headers,
    rawBody: withBody && Buffer.isBuffer(req.body) ? req.body : NO_BODY,
    query: (req.query ?? {}) as Record<string, string>,
    remoteAddress: req.clientAddress,
  };
}

export function recordRejectedDelivery(deps: AppDeps, req: FastifyRequest, status: number, outcome: string, message: string): void {
  try {
    deps.store.recordDelivery(
      capRejected({
        delivery_id: randomUUID(),
        provider: null,
        event: null,
        repo: (req.params as { repo?: string } | undefined)?.repo ?? null,
        received_at: new Date().toISOString(),
        remote_addr: req.clientAddress,
        status_code: status,
        outcome,
        message,
        headers: storedHeaders(req.headers),
        body: Buffer.alloc(0),
        body_truncated: true,
      }, false), // no body is kept: it was over body_limit, or never read (rate limits)
      [],
    );
  } catch (err) {
    req.log.error({ err }, 'could not record a rejected delivery');
  }
}

export interface Recorded {
  status: number;
  body: Record<string, unknown>;
  /** The ledger row's id (GET /api/deliveries/:id). */
  ledgerId: number;
}

interface RecordOptions {
  repoParam?: string;
  redeliveryOf?: number;
  /** The body was never read (the delivery was answered first): the row says nothing is stored of it. */
  bodyUnread?: boolean;
}

/** The ledger row of a decision: headers with secrets redacted; the query string, which may hold a token, never stored. */
function ledgerRow(deps: AppDeps, decision: Decision, deliveryId: string, raw: WebhookRequest, headers: Record<string, string>, opts: RecordOptions): DeliveryRecord {
  return ledgerRecord(decision, {
    delivery_id: deliveryId,
    provider: decision.provider,
    event: decision.event,
    repo: decision.repos.join(',') || (opts.repoParam ?? null),
    received_at: (deps.now?.() ?? new Date()).toISOString(),
    remote_addr: raw.remoteAddress,
    status_code: decision.status,
    outcome: decision.outcome,
    message: decision.message,
    headers,
    body: raw.rawBody,
    body_truncated: opts.bodyUnread === true,
    redelivery_of: opts.redeliveryOf ?? null,
  });
}

/** Logs the decision and returns the answer's body. */
function outcome(log: FastifyRequest['log'], decision: Decision, deliveryId: string, jobs: number[], opts: RecordOptions): Record<string, unknown> {
  // A line about jobs names their repo and, when there is one, the job (`job`, like the worker's lines).
  const about = { repo: decision.repos.join(',') || undefined, ...(jobs.length === 1 ? { job: jobs[0] } : {}) };
  log.info({ delivery: deliveryId, provider: decision.provider, status: decision.status, outcome: decision.outcome, ...about, jobs, redelivery_of: opts.redeliveryOf }, decision.message);
  if (!decision.ok) return { ok: false, error: decision.outcome, message: decision.message, delivery: deliveryId };
  return { ok: true, status: decision.outcome, delivery: deliveryId, jobs, message: decision.message };
}

/**
 * Records a decision in the ledger and queues its jobs in one transaction, then kicks the
 * worker. Returns the answer to send, the same for a hook and for a redelivery.
 */
export function recordDecision(deps: AppDeps, log: FastifyRequest['log'], decision: Decision, raw: WebhookRequest, headers: Record<string, string>, opts: RecordOptions = {}): Recorded {
  const deliveryId = decision.deliveryId ?? randomUUID();
  const { id: ledgerId, jobs } = deps.store.recordDelivery(
    ledgerRow(deps, decision, deliveryId, raw, headers, opts),
    decision.enqueue.map((e) => ({ repo: e.repo, ref: e.ref, hintSha: e.hintSha, kind: e.kind, params: e.params })),
    decision.ignoredJobs,
  );
  // After the commit: the worker runs the job once this answer is on its way.
  for (const e of decision.enqueue) setImmediate(() => deps.kick(e.repo));
  return { status: decision.status, ledgerId, body: outcome(log, decision, deliveryId, jobs, opts) };
}

/**
 * Answers a delivery. One that queues or lists jobs is written (durably when it queues) before
 * its answer, which names the jobs; any other promises nothing, so it is written just after
 * its answer, with the others of the same turn in one transaction (Store.recordDeliveryLater):
 * a flood of refusals costs one commit per turn, not one per delivery.
 */
function answer(deps: AppDeps, guard: HookGuard, req: FastifyRequest, reply: FastifyReply, decision: Decision, raw: WebhookRequest, lost: (err: unknown, count: number) => void, bodyUnread = false): FastifyReply {
  if (guard.judge(req, reply, decision)) return reply;
  const opts = { repoParam: (req.params as { repo?: string }).repo, bodyUnread };
  if (decision.enqueue.length > 0 || decision.ignoredJobs.length > 0) {
    const out = recordDecision(deps, req.log, decision, raw, storedHeaders(req.headers), opts);
    return reply.code(out.status).send(out.body);
  }
  const deliveryId = decision.deliveryId ?? randomUUID();
  deps.store.recordDeliveryLater(ledgerRow(deps, decision, deliveryId, raw, storedHeaders(req.headers), opts), lost);
  return reply.code(decision.status).send(outcome(req.log, decision, deliveryId, [], opts));
}

export async function hookRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const lost = (err: unknown, count: number) => deps.logger.error({ err }, `could not write ${count} answered deliver${count === 1 ? 'y' : 'ies'} to the ledger: ${errorMessage(err)}`);
  const receiveDeps = () => ({ config: deps.config, now: deps.now?.() ?? new Date(), isDuplicate: deps.store.isDuplicate.bind(deps.store) });

  // Rate limits (limits.rate): an address past them is answered before its body is read.
  const guard = new HookGuard(deps, app.hookLimits, (req, status, outcome, message) => recordRejectedDelivery(deps, req, status, outcome, message));
  const onRequest = guard.onRequest;
  // A repo name that is not configured is answered 404 before the body is read (Node drops
  // the body's bytes as they come): nothing of such a body is kept anyway (cap-rejected.ts),
  // and a flood of them then costs no buffering, no copy and no parse.
  const unknownRepo = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const name = (req.params as { repo: string }).repo;
    if (deps.config.repos.has(name as RepoName)) return done();
    const raw = toWebhookRequest(req, false);
    answer(deps, guard, req, reply, receiveForRepo(raw, name, receiveDeps()), raw, lost, true);
  };

  app.post<{ Params: { repo: string } }>('/hooks/:repo', { onRequest: [onRequest, unknownRepo] }, async (req, reply) => {
    const raw = toWebhookRequest(req);
    return answer(deps, guard, req, reply, receiveForRepo(raw, req.params.repo, receiveDeps()), raw, lost);
  });

  app.post('/hooks', { onRequest }, async (req, reply) => {
    const raw = toWebhookRequest(req);
    return answer(deps, guard, req, reply, receiveAny(raw, receiveDeps()), raw, lost);
  });

  const wrongMethod = async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.header('allow', 'POST');
    const query = req.query as Record<string, unknown> | undefined;
    // Gitea, Forgejo and Gogs have a per-hook "HTTP method" setting; GET puts the payload in the URL.
    const getHook = req.method === 'GET' && query?.payload !== undefined ? `: this is a hook sent as GET with ?payload= (Gitea, Forgejo and Gogs can be set to): set the hook's HTTP method to POST` : '';
    return sendError(reply, 'method_not_allowed', `${req.method} is not accepted here; webhooks are POSTed${getHook}`);
  };
  for (const url of ['/hooks', '/hooks/:repo']) {
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: wrongMethod });
  }
}
