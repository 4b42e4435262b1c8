import { AppError } from '../../lib/errors.js';
import { bodyMentions, isFormBody, mediaType, parsePayload, pick, pickArray, pickString } from '../body.js';
import type { Provider } from '../provider.js';
import type { ParsedDelivery, RepoIdentity } from '../push-event.js';
import { verifyToken } from '../token.js';

/**
 * The legacy Bitbucket "POST service" (deprecated): a form body `payload=<json>` with
 * `canon_url`, no event header, no delivery id, no signature. Authenticated by the token
 * (`?token=`, X-Autopull-Token or Basic auth). There is no ref nor before/after: the branch
 * is the last commit's that names one, the commit its `raw_node`. Git and hg repos alike.
 */
export const bitbucketLegacy: Provider = {
  id: 'bitbucket-legacy',
  title: 'Bitbucket POST service',
  detectedBy: 'body',

  // No header says Bitbucket: a form body that mentions canon_url may be this service.
  detect: (req) => isFormBody(req) && bodyMentions(req, 'canon_url'),

  confirm(req) {
    try {
      return 'canon_url' in parsePayload(req, { form: true });
    } catch {
      return true;
    }
  },

  deliveryId: () => null,

  eventName: () => 'push',

  authenticate: (req, secret) => verifyToken(req, secret),

  parse(req): ParsedDelivery {
    const type = mediaType(req);
    if (type !== 'application/x-www-form-urlencoded') {
      throw new AppError('unsupported_media_type', `content type ${type || '(none)'} is not accepted here; the POST service sends application/x-www-form-urlencoded`);
    }
    // Raw, unencoded JSON after `payload=` is read as is (form.ts formField).
    const body = parsePayload(req, { form: true });
    const repository = legacyRepoIdentity(body);
    if (repository === null) throw new AppError('no_push_data', 'payload has no "repository.absolute_url"');
    const commits = pickArray(body, 'commits');
    // Commits arrive oldest first: the newest commit that names a branch says where the push went.
    for (let i = commits.length - 1; i >= 0; i--) {
      const c = commits[i];
      const branch = pickString(c, 'branch') ?? lastString(pickArray(c, 'branches'));
      if (branch === null) continue;
      const after = pickString(c, 'raw_node') ?? pickString(c, 'node');
      return { kind: 'push', provider: 'bitbucket-legacy', event: 'push', repository, pusher: pickString(body, 'user'), updates: [{ ref: `refs/heads/${branch}`, before: null, after, headCommit: null, deleted: false }] };
    }
    return { kind: 'ignored', provider: 'bitbucket-legacy', event: 'push', repository, reason: 'the POST service payload names no branch in its commits (tag pushes and deletions look like this); nothing to deploy' };
  },
};

function lastString(list: unknown[]): string | null {
  const v = list.at(-1);
  return typeof v === 'string' && v !== '' ? v : null;
}

function legacyRepoIdentity(body: unknown): RepoIdentity | null {
  const abs = pickString(body, 'repository', 'absolute_url');
  if (abs === null) return null;
  const fullName = abs.replace(/^\/+|\/+$/g, '');
  if (fullName === '') return null;
  const canon = (pickString(body, 'canon_url') ?? 'https://bitbucket.org').replace(/\/+$/, '');
  const host = canon.replace(/^https?:\/\//, '');
  const hg = pick(body, 'repository', 'scm') === 'hg';
  const urls = hg ? [`${canon}/${fullName}`, `ssh://hg@${host}/${fullName}`] : [`${canon}/${fullName}.git`, `git@${host}:${fullName}.git`];
  return { fullName, urls };
}
