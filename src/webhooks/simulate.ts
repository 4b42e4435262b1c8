import { randomUUID } from 'node:crypto';
import type { ProviderId } from '../config/schema.js';
import { AppError } from '../lib/errors.js';
import { redactUrl } from '../lib/redact.js';
import { refKind } from '../vcs/ref-name.js';
import { repoKey } from './repo-url.js';
import { hmacHex } from './signature.js';
import { signStandardWebhook } from './standard-webhooks.js';

/**
 * Deliveries as each sender would send them, signed with a repo's secret: what
 * `POST /api/repos/REPO/simulate` puts through the webhook pipeline. Pure: the caller gives
 * the id and the time. The body carries the ref and the repository but no commit: autopull
 * resolves the ref on the remote itself, so no sha is made up.
 */

/** The header that marks a simulated delivery in the ledger; a real delivery's copy is never stored. */
export const SIMULATED_HEADER = 'x-autopull-simulated';

const SENDERS = {
  github: 'github',
  gitlab: 'gitlab',
  gitea: 'gitea',
  forgejo: 'forgejo',
  gogs: 'gogs',
  bitbucket: 'bitbucket-cloud',
  'bitbucket-server': 'bitbucket-server',
  generic: 'generic',
} as const satisfies Record<string, ProviderId>;

export type SimulatedSender = keyof typeof SENDERS;
export const SIMULATED_SENDERS = Object.keys(SENDERS) as SimulatedSender[];

export function isSimulatedSender(s: string): s is SimulatedSender {
  return Object.hasOwn(SENDERS, s);
}

/** The pipeline's name for a simulated sender (`bitbucket` is Bitbucket Cloud). */
export function simulatedProvider(s: SimulatedSender): ProviderId {
  return SENDERS[s];
}

export interface SimulateInput {
  sender: SimulatedSender;
  /** refs/heads/main, refs/tags/v1; a bare name is taken as a branch. */
  ref: string;
  /** The repo's url: written into the payload without any password. */
  repoUrl: string;
  secret: string;
  /** The delivery id the sender would have made up. */
  id: string;
  now: Date;
  /** Who asked, for the ledger's marker header ("api", "dashboard"). */
  by: string;
}

export interface SimulatedDelivery {
  headers: Record<string, string>;
  body: Buffer;
}

/** `main` -> `refs/heads/main`; a full ref stays. */
export function fullRef(ref: string): string {
  return ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
}

export function newSimulatedId(): string {
  return `simulated-${randomUUID()}`;
}

function identity(url: string) {
  const shown = redactUrl(url);
  const key = repoKey(url);
  const parts = key === null ? [] : key.split('/').slice(1);
  const fullName = parts.length >= 2 ? parts.slice(-2).join('/') : (parts[0] ?? 'simulated/repo');
  return { fullName, name: fullName.split('/').pop() as string, url: shown };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export function simulatedDelivery(i: SimulateInput): SimulatedDelivery {
  const ref = fullRef(i.ref);
  const repo = identity(i.repoUrl);
  const common = { 'user-agent': `autopull-simulate (${i.sender})`, [SIMULATED_HEADER]: i.by };
  switch (i.sender) {
    case 'github': {
      const body = json({ ref, repository: { full_name: repo.fullName, name: repo.name, clone_url: repo.url }, pusher: { name: 'autopull-simulate' }, commits: [], head_commit: null });
      return { body, headers: { ...common, 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': i.id, 'x-hub-signature-256': `sha256=${hmacHex('sha256', i.secret, body)}` } };
    }
    case 'gitlab': {
      const tag = refKind(ref).kind === 'tag';
      const body = json({ object_kind: tag ? 'tag_push' : 'push', ref, user_username: 'autopull-simulate', project: { path_with_namespace: repo.fullName, git_http_url: repo.url } });
      // GitLab sends its secret token as it is, not a signature.
      return { body, headers: { ...common, 'content-type': 'application/json', 'x-gitlab-event': tag ? 'Tag Push Hook' : 'Push Hook', 'idempotency-key': i.id, 'x-gitlab-token': i.secret } };
    }
    case 'gitea':
    case 'forgejo':
    case 'gogs':
      return giteaLike(i.sender, i, ref, repo, common);
    case 'bitbucket':
    case 'bitbucket-server':
      return bitbucket(i.sender, i, ref, repo, common);
    case 'generic': {
      const body = json({ type: 'push', data: { ref, repository: { full_name: repo.fullName, clone_url: repo.url } } });
      const ts = Math.floor(i.now.getTime() / 1000);
      return { body, headers: { ...common, 'content-type': 'application/json', 'webhook-id': i.id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandardWebhook(i.secret, i.id, ts, body) } };
    }
  }
}

type Repo = ReturnType<typeof identity>;

function giteaLike(sender: 'gitea' | 'forgejo' | 'gogs', i: SimulateInput, ref: string, repo: Repo, common: Record<string, string>): SimulatedDelivery {
  const body = json({ ref, repository: { full_name: repo.fullName, name: repo.name, clone_url: repo.url }, pusher: { login: 'autopull-simulate' }, commits: [] });
  const sig = hmacHex('sha256', i.secret, body);
  const headers: Record<string, string> = { ...common, 'content-type': 'application/json', 'x-gogs-event': 'push', 'x-gogs-delivery': i.id, 'x-gogs-signature': sig };
  if (sender !== 'gogs') Object.assign(headers, { 'x-gitea-event': 'push', 'x-gitea-delivery': i.id, 'x-gitea-signature': sig });
  if (sender === 'forgejo') Object.assign(headers, { 'x-forgejo-event': 'push', 'x-forgejo-delivery': i.id, 'x-forgejo-signature': sig });
  return { body, headers };
}

function bitbucket(sender: 'bitbucket' | 'bitbucket-server', i: SimulateInput, ref: string, repo: Repo, common: Record<string, string>): SimulatedDelivery {
  const { kind, name } = refKind(ref);
  if (kind === 'other') throw new AppError('bad_request', `Bitbucket pushes only branches and tags; "${ref.slice(0, 200)}" is neither (refs/heads/... or refs/tags/...)`);
  let body: Buffer;
  let headers: Record<string, string>;
  if (sender === 'bitbucket') {
    body = json({ push: { changes: [{ old: null, new: { type: kind, name }, closed: false }] }, repository: { full_name: repo.fullName, links: { html: { href: repo.url } } }, actor: { nickname: 'autopull-simulate' } });
    headers = { ...common, 'user-agent': 'Bitbucket-Webhooks/2.0 (autopull-simulate)', 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-hook-uuid': i.id, 'x-request-uuid': i.id };
  } else {
    const [project, slug] = repo.fullName.includes('/') ? repo.fullName.split('/') : ['SIM', repo.fullName];
    body = json({ eventKey: 'repo:refs_changed', changes: [{ ref: { id: ref, displayId: name, type: kind.toUpperCase() }, refId: ref, type: 'UPDATE' }], repository: { slug, project: { key: project }, links: { clone: [{ href: repo.url, name: 'http' }] } }, actor: { name: 'autopull-simulate' } });
    headers = { ...common, 'content-type': 'application/json; charset=UTF-8', 'x-event-key': 'repo:refs_changed', 'x-request-id': i.id };
  }
  headers['x-hub-signature'] = `sha256=${hmacHex('sha256', i.secret, body)}`;
  return { body, headers };
}
