import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { AppError } from '../../lib/errors.js';
import { safeEqual } from '../../webhooks/signature.js';
import { repoStatus } from '../../jobs/status.js';
import { enqueueManual, enqueueMirror } from '../../jobs/manual.js';

/** JSON API for the CLI and the dashboard; every route wants `Authorization: Bearer TOKEN`. */

const deployBody = z.strictObject({ ref: z.string().min(1).max(1024).optional(), force: z.boolean().optional() });

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
    if (!req.url.startsWith('/api/') && req.url !== '/api') return;
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
}
