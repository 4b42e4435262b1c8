import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { bodyMentions, isFormBody, isJsonBody, parsePayload, pickString } from '../body.js';
import type { Provider } from '../provider.js';
import type { ParsedDelivery, RepoIdentity } from '../push-event.js';
import { verifyToken } from '../token.js';

/**
 * Backlog (Nulab) Git webhooks: a form body `payload=<json>` with `ref`, `before`, `after`,
 * `repository` and `revisions`. Backlog cannot sign nor set headers: put the token in the
 * hook URL (`?token=`). No ping, no delivery id.
 */
export const backlog: Provider = {
  id: 'backlog',
  title: 'Backlog',
  detectedBy: 'body',

  // No header says Backlog: a form (or JSON) body that mentions revisions may be one.
  detect: (req) => (isFormBody(req) || isJsonBody(req)) && bodyMentions(req, 'revisions'),

  confirm(req) {
    try {
      const body = parsePayload(req, { form: true });
      return Array.isArray(body.revisions) && typeof body.ref === 'string';
    } catch {
      return true;
    }
  },

  deliveryId: () => null,

  eventName: () => 'push',

  authenticate: (req, secret) => verifyToken(req, secret),

  parse(req): ParsedDelivery {
    const body = parsePayload(req, { form: true });
    const ref = pickString(body, 'ref');
    if (ref === null) throw new AppError('no_push_data', 'payload has no "ref"');
    const repository = backlogRepoIdentity(body);
    if (repository === null) throw new AppError('no_push_data', 'payload has no "repository.url"');
    const after = pickString(body, 'after');
    return { kind: 'push', provider: 'backlog', event: 'push', repository, pusher: null, updates: [{ ref, before: pickString(body, 'before'), after, headCommit: null, deleted: isZeroSha(after) }] };
  },
};

/** Repository URLs look like https://SPACE.backlog.jp/git/PROJECT/repo.git: PROJECT/repo is the full name. */
function backlogRepoIdentity(body: unknown): RepoIdentity | null {
  const url = pickString(body, 'repository', 'url');
  if (url === null) return null;
  const m = /\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return { fullName: m ? `${m[1]}/${m[2]}` : null, urls: [url] };
}
