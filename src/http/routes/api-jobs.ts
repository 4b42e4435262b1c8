import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { intParam } from './api-input.js';
import { jobHistory, parseJobFilter } from '../../runner/history.js';

/**
 * /api/jobs: the job list, one job, and its log lines after a given line id (for following).
 * The list takes `?repo=&state=&limit=`: `state` one or more job states with commas, `limit`
 * 1 to 1000 (default 50); a bad parameter is a 400 naming it, an unknown repo a 404.
 */
export async function jobApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/api/jobs', async (req) => {
    const parsed = parseJobFilter(req.query ?? {});
    if ('problems' in parsed) throw new AppError('bad_request', parsed.problems.join('; '));
    return { ok: true, jobs: jobHistory(deps.config, deps.store, parsed.filter) };
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
