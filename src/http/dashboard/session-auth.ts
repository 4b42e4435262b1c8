import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
// cookie 1.x: 2.x declares node >= 22, and autopull runs on Node 20 too.
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';
import { AppError } from '../../lib/errors.js';
import { csrfMatches, Sessions, tokenHash, type Session } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of the request's cookie, or null. */
    session: Session | null;
  }
}

export const SESSION_COOKIE = 'autopull_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads the cookies of a request (a malformed header reads as none). */
export function cookies(req: FastifyRequest): Record<string, string | undefined> {
  const header = req.headers.cookie;
  if (!header) return {};
  try {
    return parseCookie(header);
  } catch {
    return {};
  }
}

/**
 * Sets a cookie the way every dashboard cookie is set: HttpOnly, SameSite=Strict, Path=/,
 * Secure when the request came over https (TLS here, or a proxy trusted by trust_proxy).
 * `maxAge` 0 deletes it.
 */
export function setCookie(req: FastifyRequest, reply: FastifyReply, name: string, value: string, maxAge: number): void {
  const line = serializeCookie(name, value, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.protocol === 'https', maxAge });
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  void reply.header('set-cookie', [...list, line]);
}

/**
 * Looks up the session of every request that carries the session cookie (req.session), for
 * the dashboard's pages and for the API, which takes a session instead of a bearer token
 * (see requireCsrf). A session whose login token the config no longer takes (auth_token
 * changed by a reload) is ended. Returns the sessions, for the login and logout routes.
 */
export function installSessions(app: FastifyInstance, tokens: () => string[], sessions = new Sessions()): Sessions {
  app.decorateRequest('session', null);
  // A callback hook: it runs on every request (webhooks too), where a promise each costs.
  app.addHook('onRequest', (req, _reply, done) => {
    const id = req.headers.cookie ? cookies(req)[SESSION_COOKIE] : undefined;
    let session = id ? sessions.get(id) : null;
    if (session && !tokens().some((t) => tokenHash(t) === session?.tokenHash)) {
      sessions.destroy(session.id);
      session = null;
    }
    req.session = session;
    done();
  });
  return sessions;
}

/**
 * A request that changes something and is authenticated by the session cookie must prove it
 * came from a dashboard page: the session's CSRF token in the X-CSRF-Token header or in the
 * form's `_csrf` field. SameSite=Strict already keeps other sites' requests from carrying the
 * cookie; this covers browsers that ignore it.
 */
export function requireCsrf(req: FastifyRequest, formToken?: string): void {
  if (SAFE_METHODS.has(req.method) || !req.session) return;
  const given = (req.headers[CSRF_HEADER] as string | undefined) ?? formToken ?? '';
  if (given === '') throw new AppError('forbidden', 'missing CSRF token: reload the page and try again');
  if (!csrfMatches(given, req.session.csrfSecret)) throw new AppError('forbidden', 'wrong CSRF token: reload the page and try again');
}
