import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { safeEqual } from '../../webhooks/signature.js';
import { addressKey } from '../limits.js';
import { acceptedTokens } from '../deps.js';
import type { DashboardOptions } from './options.js';
import { pages } from './lazy-pages.js';
import { cookies, requireCsrf, SESSION_COOKIE, setCookie } from './session-auth.js';
import { sendPage } from './send.js';
import { formBody } from './form.js';
import { tokenHash } from './sessions.js';

/** The login form's CSRF token, before there is a session to keep it in: a cookie, echoed by the form. */
const LOGIN_COOKIE = 'autopull_login';

/** Printable ASCII but the space: a browser drops tabs and newlines from a URL ("/<TAB>/host" is "//host"), and Node refuses control characters in a header. */
const PLAIN_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

/** Where to go after the login: a path on this site only (`/x`, never `//host`, `/\host`, nor either with a tab or newline between). */
export function safeNext(next: string | undefined | null): string {
  if (!next || next.length > 2000 || !PLAIN_PATH.test(next)) return '/';
  return next;
}

async function showLogin(req: FastifyRequest, reply: FastifyReply, status: number, next: string, error?: string): Promise<FastifyReply> {
  const csrf = randomBytes(32).toString('base64url');
  setCookie(req, reply, LOGIN_COOKIE, csrf, 3600);
  return sendPage(reply.code(status), (await pages()).loginPage({ csrf, next, error }));
}

/**
 * The key failed logins count under (the client address; IPv6: its /64), after refusing with
 * 429 and Retry-After an address past the limit, even with the right token or link.
 */
function loginKeyOrRefuse(req: FastifyRequest, reply: FastifyReply, o: DashboardOptions): string {
  const key = addressKey(req.clientAddress);
  const wait = o.limiter.retryAfter(key);
  if (wait > 0) {
    void reply.header('retry-after', String(wait));
    throw new AppError('rate_limited', `too many failed logins from your address; try again in ${Math.ceil(wait / 60)} min`);
  }
  return key;
}

/**
 * `GET /login?once=CODE`: a one-time login link (LoginLinks) exchanged for a session cookie;
 * a used, expired or made-up code is refused (401, the login form says why) and counts as a
 * failed login for the address, like a wrong token.
 */
function onceLogin(req: FastifyRequest, reply: FastifyReply, o: DashboardOptions, code: string, next: string): FastifyReply | Promise<FastifyReply> {
  const key = loginKeyOrRefuse(req, reply, o);
  const hash = o.links.take(code);
  if (hash === null || !acceptedTokens(o.deps).some((t) => tokenHash(t) === hash)) {
    return refuseLogin(req, reply, o, key, next, 'one-time login refused: unknown, used or expired link', 'That login link was used already or has expired; log in with the token.');
  }
  return admit(req, reply, o, key, o.sessions.createFor(hash).id, next, 'login with a one-time link');
}

/** A failed login: counted for the address, logged, and the form shown again with `shown`. */
function refuseLogin(req: FastifyRequest, reply: FastifyReply, o: DashboardOptions, key: string, next: string, why: string, shown: string): FastifyReply | Promise<FastifyReply> {
  o.limiter.failed(key);
  req.log.warn({ address: req.clientAddress }, `dashboard ${why}`);
  return showLogin(req, reply, 401, next, shown);
}

/** A login that passed: the address's failures forgiven, the session's cookie set, then on to `next`. */
function admit(req: FastifyRequest, reply: FastifyReply, o: DashboardOptions, key: string, session: string, next: string, how: string): FastifyReply {
  o.limiter.succeeded(key);
  setCookie(req, reply, SESSION_COOKIE, session, o.sessions.cookieMaxAge);
  req.log.info({ address: req.clientAddress }, `dashboard ${how}`);
  return reply.redirect(next, 303);
}

/**
 * GET/POST /login and POST /logout. The token is any the API takes (auth_token, or the token
 * file in data_dir). Failed logins are limited per client address (IPv6: per /64): past the
 * limit the answer is 429 with Retry-After, even for the right token, until the window ends.
 */
export async function loginRoutes(app: FastifyInstance, o: DashboardOptions): Promise<void> {

  app.get<{ Querystring: { next?: string; once?: string } }>('/login', async (req, reply) => {
    if (typeof req.query.once === 'string') return onceLogin(req, reply, o, req.query.once, safeNext(req.query.next));
    if (req.session) return reply.redirect(safeNext(req.query.next), 303);
    return showLogin(req, reply, 200, safeNext(req.query.next));
  });

  app.post('/login', async (req, reply) => {
    const form = formBody(req);
    const next = safeNext(form.get('next'));
    const key = loginKeyOrRefuse(req, reply, o);
    const expected = cookies(req)[LOGIN_COOKIE] ?? '';
    const given = form.get('_csrf') ?? '';
    if (given === '' || expected === '' || !safeEqual(given, expected)) {
      throw new AppError('forbidden', 'missing or wrong CSRF token on the login form: reload the page and try again');
    }
    const token = form.get('token') ?? '';
    if (token === '' || !acceptedTokens(o.deps).some((t) => safeEqual(token, t))) {
      return refuseLogin(req, reply, o, key, next, 'login refused: wrong token', 'That token is not the one autopull has.');
    }
    setCookie(req, reply, LOGIN_COOKIE, '', 0);
    return admit(req, reply, o, key, o.sessions.create(token).id, next, 'login');
  });

  app.post('/logout', async (req, reply) => {
    const form = formBody(req);
    if (req.session) {
      requireCsrf(req, form.get('_csrf') ?? undefined);
      o.sessions.destroy(req.session.id);
    }
    setCookie(req, reply, SESSION_COOKIE, '', 0);
    return reply.redirect('/login', 303);
  });
}
