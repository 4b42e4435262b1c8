import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { releasesReport, unmarkCommit } from '../../runner/releases-view.js';

/**
 * /api/repos/:repo/releases and /bad: a repo's releases and bad commits:
 * - `GET /api/repos/:repo/releases`: every release with its state (which is live, which are
 *   known good, which failed) and the commits marked bad, with reason and job;
 * - `DELETE /api/repos/:repo/bad/:sha`: clears a commit's bad mark; `sha` may be a prefix of
 *   at least 7 hex digits that names one marked commit (400 when ambiguous, 404 when none).
 */
export async function releaseApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Params: { repo: string } }>('/api/repos/:repo/releases', async (req) => ({ ok: true, ...releasesReport(deps.config, deps.store, req.params.repo) }));

  app.delete<{ Params: { repo: string; sha: string } }>('/api/repos/:repo/bad/:sha', async (req) => {
    const bad = unmarkCommit(deps.config, deps.store, req.params.repo, req.params.sha);
    req.log.info({ repo: req.params.repo, sha: bad.sha }, `bad mark of ${bad.sha} cleared`);
    return { ok: true, status: 'unmarked', repo: req.params.repo, sha: bad.sha, was: bad, message: `${bad.sha} is no longer marked bad; the next push or autopull deploy may deploy it` };
  });
}
