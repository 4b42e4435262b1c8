import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { parsePayload, pick, pickString } from '../body.js';
import type { AuthResult, Provider, WebhookRequest } from '../provider.js';
import type { ParsedDelivery, RepoIdentity } from '../push-event.js';
import { safeEqual } from '../signature.js';
import { verifyStandardWebhook } from '../standard-webhooks.js';

/**
 * GitLab (gitlab.com and self-managed). Authenticated by the secret token echoed in
 * X-Gitlab-Token, or, when the hook has a signing token, by a Standard Webhooks signature
 * (webhook-id / webhook-timestamp / webhook-signature); the repo's `secret` is whichever
 * of the two the hook uses. `checkout_sha` is the peeled commit of an annotated tag.
 *
 * Instance-wide system hooks (`X-Gitlab-Event: System Hook`) send the same push and tag
 * push bodies without `object_kind`: their `event_name` says what they are. Every other
 * system-hook event (project_create, user_create, repository_update, ...) is not a push.
 */
export const gitlab: Provider = {
  id: 'gitlab',
  title: 'GitLab',
  detectedBy: 'headers',

  detect: (req) => req.headers['x-gitlab-event'] !== undefined,

  deliveryId: (req) => req.headers['idempotency-key'] ?? req.headers['webhook-id'] ?? req.headers['x-gitlab-event-uuid'] ?? null,

  eventName: (req) => req.headers['x-gitlab-event'] ?? '',

  authenticate(req, secret, now): AuthResult {
    if (req.headers['webhook-signature'] !== undefined) return verifyStandardWebhook(req, secret, now);
    return verifyGitlabToken(req, secret);
  },

  parse(req): ParsedDelivery {
    const event = req.headers['x-gitlab-event'] ?? '';
    const body = parsePayload(req, { form: false });
    const kind = pickString(body, 'object_kind') ?? pickString(body, 'event_name');
    const repository = gitlabRepoIdentity(body);
    if (kind !== 'push' && kind !== 'tag_push') {
      return { kind: 'ignored', provider: 'gitlab', event, repository, reason: notPush(event, kind) };
    }
    const ref = pickString(body, 'ref');
    if (ref === null) throw new AppError('no_push_data', 'push payload has no "ref"');
    if (repository === null) throw new AppError('no_push_data', 'push payload has no "project" or "repository"');
    const after = pickString(body, 'after');
    const deleted = isZeroSha(after);
    const headCommit = deleted ? null : pickString(body, 'checkout_sha');
    const pusher = pickString(body, 'user_username') ?? pickString(body, 'user_name');
    return { kind: 'push', provider: 'gitlab', event, repository, pusher, updates: [{ ref, before: pickString(body, 'before'), after, headCommit, deleted }] };
  },
};

const SYSTEM_HOOK = 'System Hook';

function notPush(event: string, kind: string | null): string {
  if (event !== SYSTEM_HOOK) return `event "${event.slice(0, 100)}" (${kind?.slice(0, 100) ?? 'no object_kind'}) is not a push`;
  const what = `GitLab system hook event "${kind?.slice(0, 100) ?? '(no event_name)'}" is not a push`;
  // repository_update is on by default on a system hook; pushes need their own triggers.
  return kind === 'repository_update' ? `${what}; turn on "Push events" and "Tag push events" on the system hook to deploy` : what;
}

function verifyGitlabToken(req: WebhookRequest, secret: string): AuthResult {
  const token = req.headers['x-gitlab-token'];
  if (token === undefined) return { ok: false, code: 'token_missing', problem: 'missing header X-Gitlab-Token (set the secret token on the GitLab hook)' };
  return safeEqual(token, secret) ? { ok: true, method: 'gitlab-token' } : { ok: false, code: 'token_mismatch', problem: 'X-Gitlab-Token does not match' };
}

function gitlabRepoIdentity(body: unknown): RepoIdentity | null {
  const project = pick(body, 'project');
  const repo = pick(body, 'repository');
  if ((project === null || typeof project !== 'object') && (repo === null || typeof repo !== 'object')) return null;
  const urls = [
    ...['git_http_url', 'git_ssh_url', 'web_url', 'http_url', 'ssh_url', 'url'].map((k) => pickString(project, k)),
    ...['git_http_url', 'git_ssh_url', 'homepage', 'url'].map((k) => pickString(repo, k)),
  ].filter((u): u is string => u !== null);
  return { fullName: pickString(project, 'path_with_namespace'), urls };
}
