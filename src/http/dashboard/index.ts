import compress from '@fastify/compress';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptedTokens, type AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { assets } from './assets.js';
import { pages } from './lazy-pages.js';
import { loginRoutes } from './login-routes.js';
import type { DashboardOptions } from './options.js';
import { pageRoutes } from './page-routes.js';
import { repoRoutes } from './repo-routes.js';
import { redeliverRoute } from './redeliver-route.js';
import { installSessions } from './session-auth.js';
import { LoginLimiter, Sessions } from './sessions.js';
import { LOGIN_LINK_DEFAULTS, LoginLinks } from './login-links.js';
import { sendPage } from './send.js';

/**
 * Everything the browser gets: no inline script or style (scripts are files of this app),
 * nothing from elsewhere, no framing, forms and fetches to this origin only.
 */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async function securityHeaders(_req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  void reply.header('content-security-policy', CSP);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'same-origin');
  void reply.header('x-frame-options', 'DENY');
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  return payload;
}

/** Errors on a page are pages too (the JSON error handler answers the API and the hooks). */
async function htmlErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { errorPage } = await pages();
  if (err instanceof AppError) return sendPage(reply.code(err.status), errorPage(req.session, err.status, err.message));
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return sendPage(reply.code(status), errorPage(req.session, status, err.message));
  req.log.error({ err }, 'internal error on a dashboard page');
  return sendPage(reply.code(500), errorPage(req.session, 500, 'internal error in autopull; see its log'));
}

async function dashboardRoutes(app: FastifyInstance, o: DashboardOptions): Promise<void> {
  app.addHook('onSend', securityHeaders);
  app.setErrorHandler(htmlErrors);
  // Pages and assets only (this plugin's scope): an overview of 50 repos is ~51 KiB as HTML and
  // ~4 KiB compressed. The hooks, the API and the event streams are outside this scope.
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'] });

  app.get<{ Params: { hash: string; name: string } }>('/assets/:hash/:name', async (req, reply) => {
    const a = assets().get(req.params.name);
    if (!a) throw new AppError('not_found', `no asset ${req.params.name.slice(0, 60)}`);
    const current = a.url === `/assets/${req.params.hash}/${a.name}`;
    return reply
      .type(a.type)
      .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(a.body);
  });

  await app.register(loginRoutes, o);
  await app.register(async (pages) => {
    pages.addHook('preHandler', async (req, reply) => {
      if (req.session) return;
      if (req.method === 'GET' || req.method === 'HEAD') return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
      throw new AppError('unauthorized', 'log in first (your session may have ended)');
    });
    await pages.register(pageRoutes, o);
    await pages.register(repoRoutes, o);
    await pages.register(redeliverRoute, o);
  });
}

/**
 * The dashboard at `/` (SPEC section 3): session lookup for every request (the API takes a
 * session too), then the login, the pages and their assets. Call before the other routes.
 */
export async function registerDashboard(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const links = new LoginLinks(LOGIN_LINK_DEFAULTS, () => (deps.now?.() ?? new Date()).getTime());
  const sessions = installSessions(app, () => acceptedTokens(deps), new Sessions());
  app.decorate('loginLinks', links);
  await app.register(dashboardRoutes, { deps, sessions, limiter: new LoginLimiter(), links });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The one-time login links (POST /api/login-link makes them, GET /login?once= takes them). */
    loginLinks: LoginLinks;
  }
}
