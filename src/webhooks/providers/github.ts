import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { parsePayload, pick, pickString } from '../body.js';
import type { AuthResult, Provider, WebhookRequest } from '../provider.js';
import type { ParsedDelivery, RepoIdentity } from '../push-event.js';
import { verifyPrefixedHmac } from '../signature.js';

/**
 * GitHub (github.com and Enterprise Server). JSON or form-encoded (`payload=`) bodies; the
 * HMAC covers the raw body as sent, form wrapping included. Gitea, Gogs and Forgejo also send
 * X-GitHub-Event: their providers come first in the registry.
 */
export const github: Provider = {
  id: 'github',
  title: 'GitHub',
  detectedBy: 'headers',

  detect(req) {
    return req.headers['x-github-event'] !== undefined;
  },

  deliveryId(req) {
    return req.headers['x-github-delivery'] ?? null;
  },

  eventName(req) {
    return req.headers['x-github-event'] ?? '';
  },

  authenticate(req, secret): AuthResult {
    return verifyHubSignature(req, secret);
  },

  parse(req): ParsedDelivery {
    const event = this.eventName(req);
    const body = parsePayload(req, { form: true });
    return parseGithubLike('github', event, body);
  },
};

/** X-Hub-Signature-256 (sha256) over the raw body; sha1 X-Hub-Signature only when no -256 is sent. */
export function verifyHubSignature(req: WebhookRequest, secret: string): AuthResult {
  const sig256 = req.headers['x-hub-signature-256'];
  const sig1 = req.headers['x-hub-signature'];
  if (sig256 !== undefined) {
    if (sig256.trim() === '') return { ok: false, code: 'signature_mismatch', problem: 'header X-Hub-Signature-256 is empty' };
    return verifyPrefixedHmac(sig256, 'sha256', secret, req.rawBody)
      ? { ok: true, method: 'hmac-sha256' }
      : { ok: false, code: 'signature_mismatch', problem: 'X-Hub-Signature-256 does not match' };
  }
  if (sig1 !== undefined) {
    if (sig1.trim() === '') return { ok: false, code: 'signature_mismatch', problem: 'header X-Hub-Signature is empty' };
    return verifyPrefixedHmac(sig1, 'sha1', secret, req.rawBody)
      ? { ok: true, method: 'hmac-sha1' }
      : { ok: false, code: 'signature_mismatch', problem: 'X-Hub-Signature (sha1) does not match' };
  }
  return { ok: false, code: 'signature_missing', problem: 'missing header X-Hub-Signature-256' };
}

/** Repository identity from a GitHub-shaped `repository` object (also Gitea, Gogs, Forgejo). */
export function githubRepoIdentity(body: unknown): RepoIdentity | null {
  const repo = pick(body, 'repository');
  if (repo === null || typeof repo !== 'object') return null;
  const urls = ['clone_url', 'ssh_url', 'git_url', 'html_url', 'url', 'svn_url']
    .map((k) => pickString(repo, k))
    .filter((u): u is string => u !== null);
  let fullName = pickString(repo, 'full_name');
  if (fullName === null) {
    // Pre-2014 payloads: no full_name; derive owner/name from the HTML url.
    const url = pickString(repo, 'url');
    const m = url ? /^https?:\/\/[^/]+\/([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(url) : null;
    fullName = m?.[1] ?? null;
  }
  return { fullName, urls };
}

/** The push/ping/create/delete vocabulary GitHub defined and Gitea, Gogs, Forgejo copied. */
export function parseGithubLike(provider: 'github' | 'gitea' | 'gogs' | 'forgejo', event: string, body: Record<string, unknown>): ParsedDelivery {
  const repository = githubRepoIdentity(body);
  switch (event) {
    case 'ping':
      return { kind: 'ping', provider, event, repository };
    case 'push': {
      const ref = pickString(body, 'ref');
      if (ref === null) throw new AppError('no_push_data', 'push payload has no "ref"');
      if (repository === null) throw new AppError('no_push_data', 'push payload has no "repository"');
      const before = pickString(body, 'before');
      const after = pickString(body, 'after');
      const deleted = pick(body, 'deleted') === true || isZeroSha(after);
      const headCommit = deleted ? null : pickString(body, 'head_commit', 'id');
      const pusher = pickString(body, 'pusher', 'name') ?? pickString(body, 'pusher', 'login') ?? pickString(body, 'sender', 'login');
      return { kind: 'push', provider, event, repository, pusher, updates: [{ ref, before, after, headCommit, deleted }] };
    }
    case 'create':
    case 'delete':
      return { kind: 'ignored', provider, event, repository, reason: `a ${event} event repeats what the push event for the same ref says; push events deploy` };
    default:
      return { kind: 'ignored', provider, event, repository, reason: `event "${event}" is not a push` };
  }
}
