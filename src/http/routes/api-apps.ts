import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { appsReport } from '../../runner/apps.js';

/**
 * /api/apps: the supervised apps (`deploy.start`) of both kinds, on one port and behind the
 * proxy: each one's state, release, pid, port, uptime and restarts, and behind the proxy every
 * instance (the routed one, one being gated, draining ones with what they still have open).
 * - `GET /api/apps`: every supervised app;
 * - `GET /api/apps/:repo`: one (404 for an unknown repo or one without `deploy.start`).
 */
export async function appApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/api/apps', async () => ({ ok: true, apps: await appsReport(deps.config, deps.apps) }));

  app.get<{ Params: { repo: string } }>('/api/apps/:repo', async (req) => {
    const [status] = await appsReport(deps.config, deps.apps, req.params.repo);
    return { ok: true, app: status };
  });
}
