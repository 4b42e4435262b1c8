import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { bearerAuth } from '../bearer.js';
import { jobHistory, parseJobFilter } from '../../runner/history.js';

/**
 * `GET /api/jobs?repo=&state=&limit=`: the job history, newest first (bearer token).
 * `state` is one or more job states with commas; `limit` 1 to 1000 (default 50). A bad
 * parameter is a 400 naming it; an unknown repo a 404.
 */
export async function jobRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.addHook('onRequest', bearerAuth(deps));

  app.get('/api/jobs', async (req) => {
    const parsed = parseJobFilter(req.query ?? {});
    if ('problems' in parsed) throw new AppError('bad_request', parsed.problems.join('; '));
    return { ok: true, jobs: jobHistory(deps.config, deps.store, parsed.filter) };
  });
}
