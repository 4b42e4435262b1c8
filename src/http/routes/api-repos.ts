import type { FastifyInstance } from 'fastify';
import { z } from '../../lib/zod.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { repoStatusWithApps } from '../../runner/status.js';
import { enqueueRestart } from '../../runner/apps.js';
import { enqueueManual, enqueueMirror, enqueueRollback } from '../../runner/manual.js';
import { jsonBody } from './api-input.js';

/** /api/repos: status of each repo (its supervised app's state included), and the manual jobs (deploy, rollback, mirror, restart). */

const deployBody = z.strictObject({ ref: z.string().min(1).max(1024).optional(), force: z.boolean().optional() });
const rollbackBody = z.strictObject({ to: z.string().min(1).max(100).optional() });
const noBody = z.strictObject({});

export async function repoApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { repo?: string } }>('/api/repos', async (req) => ({ ok: true, repos: await repoStatusWithApps(deps.config, deps.store, req.query.repo, deps.apps) }));

  app.get<{ Params: { repo: string } }>('/api/repos/:repo', async (req) => {
    const [status] = await repoStatusWithApps(deps.config, deps.store, req.params.repo, deps.apps);
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

  app.post<{ Params: { repo: string } }>('/api/repos/:repo/restart', async (req, reply) => {
    jsonBody(req, noBody);
    const { id, coalesced } = enqueueRestart(deps.config, deps.store, req.params.repo);
    setImmediate(() => deps.kick(req.params.repo));
    return reply.code(202).send({ ok: true, status: 'queued', jobs: [id], message: coalesced ? `merged into queued restart job ${id}` : `restart job ${id} queued` });
  });

  app.post<{ Params: { repo: string } }>('/api/repos/:repo/mirror', async (req, reply) => {
    const { id, coalesced } = enqueueMirror(deps.config, deps.store, req.params.repo);
    setImmediate(() => deps.kick(req.params.repo));
    return reply.code(202).send({ ok: true, status: 'queued', jobs: [id], message: coalesced ? `merged into queued mirror job ${id}` : `mirror job ${id} queued` });
  });
}
