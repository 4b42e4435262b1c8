import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { safeEqual } from '../../webhooks/signature.js';
import { repoStatus } from '../../runner/status.js';
import { enqueueManual, enqueueMirror, enqueueRollback } from '../../runner/manual.js';
import { parseRepoName } from '../../lib/ids.js';
import { receiveAny, receiveForRepo } from '../../webhooks/receive.js';
import type { ProviderId } from '../../config/schema.js';
import { recordDecision } from './hooks.js';
import { REJECTED_BODY_LIMIT, REJECTED_HEADER_COUNT } from '../cap-rejected.js';

/** JSON API for the CLI and the dashboard; every route wants `Authorization: Bearer TOKEN`. */

const deployBody = z.strictObject({ ref: z.string().min(1).max(1024).optional(), force: z.boolean().optional() });
const rollbackBody = z.strictObject({ to: z.string().min(1).max(100).optional() });

function jsonBody<T>(req: FastifyRequest, schema: z.ZodType<T>): T {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  let value: unknown = {};
  if (raw.trim() !== '') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new AppError('bad_request', `body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('bad_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

function intParam(value: string | undefined, name: string): number {
  if (value === undefined || !/^\d{1,15}$/.test(value)) throw new AppError('bad_request', `${name} must be a whole number, not "${String(value).slice(0, 40)}"`);
  return Number(value);
}

export async function apiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const tokens = [deps.config.auth_token, ...deps.apiTokens].filter((t): t is string => typeof t === 'string' && t.length > 0);

  app.addHook('onRequest', async (req) => {
    // The matched route, not req.url: the raw URL may be percent-encoded (/%61pi/...).
    const route = req.routeOptions.url ?? '';
    if (!route.startsWith('/api')) return;
    const header = req.headers.authorization;
    if (!header) throw new AppError('unauthorized', 'missing header Authorization: Bearer TOKEN (auth_token in the config)');
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = m?.[1]?.trim() ?? '';
    if (!tokens.some((t) => safeEqual(given, t))) throw new AppError('forbidden', 'the bearer token does not match auth_token');
  });

  app.get<{ Querystring: { repo?: string } }>('/api/repos', async (req) => ({ ok: true, repos: repoStatus(deps.config, deps.store, req.query.repo) }));

  app.get<{ Params: { repo: string } }>('/api/repos/:repo', async (req) => {
    const [status] = repoStatus(deps.config, deps.store, req.params.repo);
    if (!status) throw new AppError('unknown_repo', `no repo named "${req.params.repo.slice(0, 100)}" is configured`);
    return { ok: true, repo: status };
  });

  app.post<{ Params: { repo: string } }>('/api/repos/:repo/deploy', async (req, reply) => {
    const body = jsonBody(req, deployBody);
    const { id, coalesced } = enqueueManual(deps.config, deps.store, req.params.repo, body.ref, body.force ?? false);
    setImmediate(() => deps.kick(req.params.repo));
    return reply.code(202).send({ ok: true, status: 'queued', jobs: [id], message: coalesced ? `merged into queued job ${id}` : `job ${id} queued` });
  });

  app.post<{ Params: { repo: string } }>('/api/repos/:repo/rollback', async (req, reply) => {
    const body = jsonBody(req, rollbackBody);
    const { id, coalesced } = enqueueRollback(deps.config, deps.store, req.params.repo, body.to);
    setImmediate(() => deps.kick(req.params.repo));
    return reply.code(202).send({ ok: true, status: 'queued', jobs: [id], message: coalesced ? `merged into queued rollback job ${id}` : `rollback job ${id} queued` });
  });

  app.post<{ Params: { repo: string } }>('/api/repos/:repo/mirror', async (req, reply) => {
    const { id, coalesced } = enqueueMirror(deps.config, deps.store, req.params.repo);
    setImmediate(() => deps.kick(req.params.repo));
    return reply.code(202).send({ ok: true, status: 'queued', jobs: [id], message: coalesced ? `merged into queued mirror job ${id}` : `mirror job ${id} queued` });
  });

  app.get<{ Querystring: { repo?: string; limit?: string } }>('/api/jobs', async (req) => {
    const limit = req.query.limit === undefined ? 50 : Math.min(intParam(req.query.limit, 'limit'), 1000);
    return { ok: true, jobs: deps.store.listJobs({ repo: req.query.repo, limit }) };
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (req) => {
    const job = deps.store.getJob(intParam(req.params.id, 'job id'));
    if (!job) throw new AppError('not_found', `no job ${req.params.id}`);
    return { ok: true, job };
  });

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/api/jobs/:id/log', async (req) => {
    const id = intParam(req.params.id, 'job id');
    const job = deps.store.getJob(id);
    if (!job) throw new AppError('not_found', `no job ${req.params.id}`);
    const after = req.query.after === undefined ? 0 : intParam(req.query.after, 'after');
    return { ok: true, state: job.state, lines: deps.store.logsAfter(id, after) };
  });

  app.get<{ Querystring: { repo?: string; limit?: string } }>('/api/deliveries', async (req) => {
    const limit = req.query.limit === undefined ? 50 : Math.min(intParam(req.query.limit, 'limit'), 1000);
    const list = deps.store.listDeliveries({ repo: req.query.repo, limit }).map(({ body: _b, ...d }) => d);
    return { ok: true, deliveries: list };
  });

  app.get<{ Params: { id: string } }>('/api/deliveries/:id', async (req) => {
    const d = deps.store.getDelivery(intParam(req.params.id, 'delivery id'));
    if (!d) throw new AppError('not_found', `no delivery ${req.params.id}`);
    return { ok: true, delivery: { ...d, body: d.body.toString('utf8') } };
  });

  /**
   * Re-runs a stored delivery through the pipeline on purpose (a sender that keeps its
   * delivery id on redelivery, like GitHub, would otherwise be a duplicate). The operator is
   * authenticated by the bearer token and the stored signature headers are redacted, so the
   * duplicate check, allow_ips and the signature are skipped. The result is a new ledger row
   * with `redelivery_of` set, and the answer is a hook's.
   */
  app.post<{ Params: { id: string } }>('/api/deliveries/:id/redeliver', async (req, reply) => {
    const id = intParam(req.params.id, 'delivery id');
    const d = deps.store.getDelivery(id);
    if (!d) throw new AppError('not_found', `no delivery ${req.params.id}`);
    if (d.status_code === 401 || d.status_code === 403) {
      // Its sender never proved who it was: a redelivery would skip the check it failed.
      throw new AppError('conflict', `delivery ${id} failed authentication (${d.status_code} ${d.outcome}); only authenticated deliveries can be redelivered`);
    }
    if (d.body_truncated) {
      throw new AppError('conflict', `delivery ${id} cannot be redelivered: it was not stored whole (a rejected delivery keeps at most ${REJECTED_BODY_LIMIT / 1024} KiB of its body and ${REJECTED_HEADER_COUNT} headers, one over body_limit no body)`);
    }
    const raw = { headers: d.headers, rawBody: d.body, query: {}, remoteAddress: req.clientAddress };
    const receiveDeps = {
      config: deps.config,
      now: deps.now?.() ?? new Date(),
      isDuplicate: () => false,
      redelivery: { provider: d.provider as ProviderId | null },
    };
    const repos = (d.repo ?? '').split(',').filter((r) => r !== '');
    const single = repos.length === 1 && parseRepoName(repos[0] as string) !== null ? (repos[0] as string) : null;
    const decision = single !== null ? receiveForRepo(raw, single, receiveDeps) : receiveAny(raw, receiveDeps);
    const out = recordDecision(deps, req.log, decision, raw, d.headers, { repoParam: single ?? undefined, redeliveryOf: id });
    return reply.code(out.status).send({ ...out.body, redelivery_of: id });
  });
}
