import { AppError } from '../../lib/errors.js';
import { parsePayload, pick, pickArray, pickString } from '../body.js';
import type { AuthResult, Provider, WebhookRequest } from '../provider.js';
import type { ParsedDelivery, RefUpdate, RepoIdentity } from '../push-event.js';
import { verifyPrefixedHmac } from '../signature.js';

/**
 * Bitbucket Cloud (bitbucket.org) webhooks: X-Event-Key `repo:push`, signed with
 * `X-Hub-Signature: sha256=<hex>` over the raw body when the hook has a secret. One push can
 * change several refs (`push.changes[]`); a deleted ref has `new: null`.
 */
export const bitbucketCloud: Provider = {
  id: 'bitbucket-cloud',
  title: 'Bitbucket Cloud',
  detectedBy: 'headers',

  detect: (req) => isBitbucketCloud(req),

  deliveryId: (req) => req.headers['x-request-uuid'] ?? null,

  eventName: (req) => req.headers['x-event-key'] ?? '',

  authenticate: (req, secret) => verifyBitbucketSignature(req, secret),

  parse(req): ParsedDelivery {
    const event = req.headers['x-event-key'] ?? '';
    const body = parsePayload(req, { form: false });
    const repository = bitbucketCloudRepoIdentity(body);
    if (event !== 'repo:push') return { kind: 'ignored', provider: 'bitbucket-cloud', event, repository, reason: `event "${event}" is not a push` };
    if (repository === null) throw new AppError('no_push_data', 'push payload has no "repository"');
    const updates = pickArray(body, 'push', 'changes').map(change).filter((u): u is RefUpdate => u !== null);
    if (updates.length === 0) throw new AppError('no_push_data', 'push payload has no usable "push.changes"');
    const pusher = pickString(body, 'actor', 'nickname') ?? pickString(body, 'actor', 'username') ?? pickString(body, 'actor', 'display_name');
    return { kind: 'push', provider: 'bitbucket-cloud', event, repository, pusher, updates };
  },
};

export function isBitbucketCloud(req: WebhookRequest): boolean {
  if (req.headers['x-event-key'] === undefined) return false;
  return req.headers['x-hook-uuid'] !== undefined || (req.headers['user-agent'] ?? '').startsWith('Bitbucket-Webhooks/');
}

/** `X-Hub-Signature: sha256=<hex>` over the raw body (Bitbucket Cloud and Data Center). */
export function verifyBitbucketSignature(req: WebhookRequest, secret: string): AuthResult {
  const sig = req.headers['x-hub-signature'];
  if (sig === undefined) return { ok: false, code: 'signature_missing', problem: 'missing header X-Hub-Signature' };
  if (sig.trim() === '') return { ok: false, code: 'signature_mismatch', problem: 'header X-Hub-Signature is empty' };
  return verifyPrefixedHmac(sig, 'sha256', secret, req.rawBody)
    ? { ok: true, method: 'hmac-sha256' }
    : { ok: false, code: 'signature_mismatch', problem: 'X-Hub-Signature does not match' };
}

function refName(side: unknown): string | null {
  const type = pickString(side, 'type');
  const name = pickString(side, 'name');
  if (name === null) return null;
  if (type === 'tag' || type === 'annotated_tag') return `refs/tags/${name}`;
  if (type === 'branch' || type === 'named_branch' || type === 'bookmark') return `refs/heads/${name}`;
  return null;
}

function change(c: unknown): RefUpdate | null {
  const next = pick(c, 'new');
  const old = pick(c, 'old');
  const hasNew = next !== null && typeof next === 'object';
  const ref = refName(hasNew ? next : old);
  if (ref === null) return null;
  return {
    ref,
    before: pickString(old, 'target', 'hash'),
    after: hasNew ? pickString(next, 'target', 'hash') : null,
    headCommit: null,
    deleted: !hasNew || pick(c, 'closed') === true,
  };
}

function bitbucketCloudRepoIdentity(body: unknown): RepoIdentity | null {
  const repo = pick(body, 'repository');
  if (repo === null || typeof repo !== 'object') return null;
  const fullName = pickString(repo, 'full_name');
  const urls = [pickString(repo, 'links', 'html', 'href')].filter((u): u is string => u !== null);
  if (fullName !== null) urls.push(`https://bitbucket.org/${fullName}.git`, `git@bitbucket.org:${fullName}.git`);
  return { fullName, urls };
}
