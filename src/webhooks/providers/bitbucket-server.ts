import { AppError } from '../../lib/errors.js';
import { bodyMentions, parsePayload, pick, pickArray, pickString } from '../body.js';
import type { Provider } from '../provider.js';
import type { ParsedDelivery, RefUpdate, RepoIdentity } from '../push-event.js';
import { isBitbucketCloud, verifyBitbucketSignature } from './bitbucket-cloud.js';

/**
 * Bitbucket Data Center / Server: X-Event-Key `repo:refs_changed` (one entry per ref in
 * `changes[]`), `diagnostics:ping` from "Test connection". Signed like Bitbucket Cloud.
 */
export const bitbucketServer: Provider = {
  id: 'bitbucket-server',
  title: 'Bitbucket Data Center',
  detectedBy: 'headers',

  // X-Event-Key is Bitbucket's; Cloud says itself by its own headers, so its bodies are not searched.
  detect(req) {
    if (req.headers['x-event-key'] === undefined || isBitbucketCloud(req)) return false;
    return req.headers['x-request-id'] !== undefined || bodyMentions(req, 'eventKey');
  },

  deliveryId: (req) => req.headers['x-request-id'] ?? null,

  eventName: (req) => req.headers['x-event-key'] ?? '',

  authenticate: (req, secret) => verifyBitbucketSignature(req, secret),

  parse(req): ParsedDelivery {
    const event = req.headers['x-event-key'] ?? '';
    // The test body is tiny and not a push; the header alone says what it is.
    if (event === 'diagnostics:ping') return { kind: 'ping', provider: 'bitbucket-server', event, repository: null };
    const body = parsePayload(req, { form: false });
    const repository = serverRepoIdentity(body);
    if (event !== 'repo:refs_changed') return { kind: 'ignored', provider: 'bitbucket-server', event, repository, reason: `event "${event}" is not a push` };
    if (repository === null) throw new AppError('no_push_data', 'push payload has no "repository"');
    const updates = pickArray(body, 'changes').map(change).filter((u): u is RefUpdate => u !== null);
    if (updates.length === 0) throw new AppError('no_push_data', 'push payload has no usable "changes"');
    const pusher = pickString(body, 'actor', 'name') ?? pickString(body, 'actor', 'slug');
    return { kind: 'push', provider: 'bitbucket-server', event, repository, pusher, updates };
  },
};

function change(c: unknown): RefUpdate | null {
  const ref = pickString(c, 'refId') ?? pickString(c, 'ref', 'id');
  if (ref === null) return null;
  const after = pickString(c, 'toHash');
  return { ref, before: pickString(c, 'fromHash'), after, headCommit: null, deleted: pickString(c, 'type') === 'DELETE' || (after !== null && /^0+$/.test(after)) };
}

function serverRepoIdentity(body: unknown): RepoIdentity | null {
  const repo = pick(body, 'repository');
  if (repo === null || typeof repo !== 'object') return null;
  const key = pickString(repo, 'project', 'key');
  const slug = pickString(repo, 'slug');
  const links = [...pickArray(repo, 'links', 'clone'), ...pickArray(repo, 'links', 'self')];
  const urls = links.map((l) => pickString(l, 'href')).filter((u): u is string => u !== null);
  return { fullName: key !== null && slug !== null ? `${key}/${slug}` : null, urls };
}
