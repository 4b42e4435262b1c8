import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { parsePayload, pick, pickString } from '../body.js';
import type { AuthResult, Provider } from '../provider.js';
import type { ParsedDelivery } from '../push-event.js';
import { verifyStandardWebhook } from '../standard-webhooks.js';
import { verifyToken } from '../token.js';
import { githubRepoIdentity } from './github.js';

/**
 * Any other sender: signed with Standard Webhooks (webhook-id / webhook-timestamp /
 * webhook-signature), or carrying the token (X-Autopull-Token, ?token=, Basic auth). The
 * body is JSON with GitHub's push fields, `{"ref", "after", "before"?, "deleted"?,
 * "repository"?: {"full_name", "clone_url", ...}}`, bare or as the `data` of a Standard
 * Webhooks envelope `{"type": "push", "data": {...}}`; `"type": "ping"` is a ping.
 */
export const generic: Provider = {
  id: 'generic',
  title: 'generic sender (Standard Webhooks or token)',
  detectedBy: 'credential',

  detect(req) {
    return (
      req.headers['webhook-signature'] !== undefined ||
      req.headers['x-autopull-token'] !== undefined ||
      typeof req.query.token === 'string' ||
      /^Basic\s/i.test(req.headers.authorization ?? '')
    );
  },

  deliveryId: (req) => req.headers['webhook-id'] ?? req.headers['x-autopull-delivery'] ?? null,

  eventName: () => 'push',

  authenticate(req, secret, now): AuthResult {
    if (req.headers['webhook-signature'] !== undefined) return verifyStandardWebhook(req, secret, now);
    return verifyToken(req, secret);
  },

  parse(req): ParsedDelivery {
    const envelope = parsePayload(req, { form: true });
    const type = pickString(envelope, 'type');
    const data = pick(envelope, 'data');
    const body = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : envelope;
    const repository = githubRepoIdentity(body);
    if (type !== null && (type === 'ping' || type.endsWith('.ping'))) return { kind: 'ping', provider: 'generic', event: type, repository };
    const ref = pickString(body, 'ref');
    if (ref === null) {
      if (type !== null && type !== 'push') return { kind: 'ignored', provider: 'generic', event: type, repository, reason: `event type "${type.slice(0, 100)}" is not a push` };
      throw new AppError('no_push_data', 'body has no "ref" (send {"ref": "refs/heads/main", "after": "<sha>"})');
    }
    const after = pickString(body, 'after');
    const deleted = pick(body, 'deleted') === true || isZeroSha(after);
    const pusher = pickString(body, 'pusher', 'name');
    // Without a repository the delivery can only go to /hooks/REPO.
    return { kind: 'push', provider: 'generic', event: type ?? 'push', repository: repository ?? { fullName: null, urls: [] }, pusher, updates: [{ ref, before: pickString(body, 'before'), after, headCommit: deleted ? null : pickString(body, 'head_commit', 'id'), deleted }] };
  },
};
