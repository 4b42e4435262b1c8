import type { AuthResult, WebhookRequest } from './provider.js';
import { safeEqual } from './signature.js';

/**
 * Shared-secret authentication for senders that cannot sign (Backlog, the legacy Bitbucket
 * POST service, Azure DevOps, generic token senders): the repo's `secret` is the token.
 * Accepted from `X-Autopull-Token`, `?token=` on the hook URL, or as the password of HTTP
 * Basic auth (any user name). Compared in constant time; never echoed.
 */
export function tokenFrom(req: WebhookRequest): { token: string; where: string } | null {
  const header = req.headers['x-autopull-token'];
  if (header !== undefined) return { token: header.trim(), where: 'header X-Autopull-Token' };
  const query = req.query.token;
  if (typeof query === 'string') return { token: query, where: 'the token= query parameter' };
  const basic = basicPassword(req);
  if (basic !== null) return { token: basic, where: 'the Basic auth password' };
  return null;
}

/** The password of `Authorization: Basic base64(user:password)`, or null. */
export function basicPassword(req: WebhookRequest): string | null {
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

export function verifyToken(req: WebhookRequest, secret: string): AuthResult {
  const found = tokenFrom(req);
  if (found === null) {
    return { ok: false, code: 'token_missing', problem: 'missing token: send header X-Autopull-Token, ?token= on the hook URL, or Basic auth with the secret as password' };
  }
  if (found.token === '') return { ok: false, code: 'token_mismatch', problem: `${found.where} is empty` };
  return safeEqual(found.token, secret) ? { ok: true, method: 'token' } : { ok: false, code: 'token_mismatch', problem: `${found.where} does not match` };
}
