import type { FastifyInstance } from 'fastify';
import { acceptedTokens, type AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { safeEqual } from '../../webhooks/signature.js';
import { requireCsrf } from '../dashboard/session-auth.js';
import { repoApiRoutes } from './api-repos.js';
import { jobApiRoutes } from './api-jobs.js';
import { deliveryApiRoutes } from './api-deliveries.js';
import { releaseApiRoutes } from './api-releases.js';
import { appApiRoutes } from './api-apps.js';
import { eventApiRoutes } from './api-events.js';
import { simulateApiRoutes } from './api-simulate.js';
import { loginLinkApiRoutes } from './api-login-link.js';

/**
 * JSON API for the CLI and the dashboard; every route wants `Authorization: Bearer TOKEN`,
 * or a dashboard session's cookie (and for anything but GET its X-CSRF-Token header).
 * Each area is a plugin in its own file (routes/api-<area>.ts), registered below as a child of
 * this one, so the bearer check added here runs before every one of its routes.
 */
const API_AREAS = [repoApiRoutes, jobApiRoutes, deliveryApiRoutes, releaseApiRoutes, appApiRoutes, eventApiRoutes, simulateApiRoutes, loginLinkApiRoutes];

export async function apiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.addHook('onRequest', async (req) => {
    // The matched route, not req.url: the raw URL may be percent-encoded (/%61pi/...).
    const route = req.routeOptions.url ?? '';
    if (!route.startsWith('/api')) return;
    const header = req.headers.authorization;
    if (!header && req.session) return requireCsrf(req);
    if (!header) throw new AppError('unauthorized', 'missing header Authorization: Bearer TOKEN (auth_token in the config)');
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = m?.[1]?.trim() ?? '';
    if (!acceptedTokens(deps).some((t) => safeEqual(given, t))) throw new AppError('forbidden', 'the bearer token does not match auth_token');
  });

  for (const area of API_AREAS) await app.register(area, deps);
}
