import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { intParam, limitParam } from './api-input.js';

/** /api/jobs: the job list, one job, and its log lines after a given line id (for following). */
export async function jobApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { repo?: string; limit?: string } }>('/api/jobs', async (req) => {
    return { ok: true, jobs: deps.store.listJobs({ repo: req.query.repo, limit: limitParam(req.query.limit) }) };
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
}
