import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { tokenHash } from '../dashboard/sessions.js';

/**
 * `POST /api/login-link`: a one-time dashboard login link for the caller (`autopull demo`
 * prints one): `/login?once=CODE`, good once within 10 minutes, opening a session of the
 * token (or the session) that asked. The answer has `path`, `url` (this request's host) and
 * `expires_at`.
 */
export async function loginLinkApiRoutes(app: FastifyInstance, _deps: AppDeps): Promise<void> {
  app.post('/api/login-link', async (req, reply) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const hash = bearer ? tokenHash(bearer) : req.session?.tokenHash;
    if (!hash) throw new AppError('unauthorized', 'log in first');
    const { code, expiresAt } = app.loginLinks.issue(hash);
    const path = `/login?once=${code}`;
    return reply.code(201).send({ ok: true, path, url: `${req.protocol}://${req.host}${path}`, expires_at: expiresAt.toISOString() });
  });
}
