import { createHmac } from 'node:crypto';
import { formField } from '../src/webhooks/form.js';
import { signStandardWebhook } from '../src/webhooks/standard-webhooks.js';
import { githubPing, githubPush } from '../test/helpers/github.js';
import { fixture as readFixture } from '../test/helpers/senders.js';
import type { Rng } from './prng.js';

/**
 * Every sender the fuzzer imitates: how to build one of its deliveries (from the vendor
 * samples under test/fixtures/payloads, pointed at the fuzz repo), and how it carries its
 * credential, so a delivery can be signed right, signed wrong, or signed again after a change.
 */

/** What a delivery asks for: a push to a tracked branch (the only kind that must deploy), and the rest. */
export type Kind = 'push' | 'untracked' | 'tag' | 'delete' | 'ping' | 'other';
export const KINDS: readonly Kind[] = ['push', 'push', 'push', 'untracked', 'tag', 'delete', 'ping', 'other'];

export interface Built {
  /** URL path and query. */
  path: string;
  /** In the order sent; a name may repeat. */
  headers: [string, string][];
  body: Buffer;
}

export interface Sender {
  /** The repo name in the fuzz config (also its remote's folder). */
  repo: string;
  provider: string;
  secret: string;
  /** Whether the credential covers the body (a MAC) or not (a token). */
  bodySigned: boolean;
  /** Header names that carry the credential (dropped for "missing"); query-token senders have none. */
  authHeaders: string[];
  build(rng: Rng, kind: Kind, o: BuildOptions): Built;
  /** The credential headers (or query) for `body` signed with `secret`, replacing those in `b`. */
  sign(b: Built, secret: string): Built;
}

export interface BuildOptions {
  sha: string;
  /** The sender's delivery id, unique per delivery. */
  id: string;
  /** POST /hooks (the repo found by payload) instead of /hooks/REPO. */
  any: boolean;
  /** Where the fuzz repos' remotes live (their URLs name them). */
  remotes: string;
}

const ZERO = '0'.repeat(40);

/** A vendor sample, read once, cloned per use. */
const samples = new Map<string, Record<string, unknown>>();
function fixture(sender: string, file: string): Record<string, unknown> {
  let s = samples.get(`${sender}/${file}`);
  if (s === undefined) samples.set(`${sender}/${file}`, (s = readFixture(sender, file)));
  return structuredClone(s);
}
const hmacHex = (alg: 'sha1' | 'sha256', secret: string, data: Buffer) => createHmac(alg, secret).update(data).digest('hex');

function refFor(kind: Kind, rng: Rng): string {
  if (kind === 'untracked') return `refs/heads/dev-${rng.int(1000)}`;
  if (kind === 'tag') return `refs/tags/v1.${rng.int(100)}`;
  return 'refs/heads/main';
}

function setHeader(b: Built, name: string, value: string): Built {
  return { ...b, headers: [...b.headers.filter(([n]) => n.toLowerCase() !== name), [name, value]] };
}

function withoutHeaders(b: Built, names: readonly string[]): Built {
  return { ...b, headers: b.headers.filter(([n]) => !names.includes(n.toLowerCase())) };
}

const remoteOf = (o: BuildOptions, repo: string) => `${o.remotes}/${repo}/site.git`;
const pathOf = (o: BuildOptions, repo: string) => (o.any ? '/hooks' : `/hooks/${repo}`);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const form = (v: unknown) => Buffer.from(new URLSearchParams({ payload: JSON.stringify(v) }).toString());

function githubLike(repo: string, kind: Kind, rng: Rng, o: BuildOptions): { event: string; payload: Record<string, unknown> } {
  const cloneUrl = remoteOf(o, repo);
  if (kind === 'ping') return { event: 'ping', payload: githubPing(cloneUrl) };
  const deleted = kind === 'delete';
  const p = githubPush({ ref: refFor(kind, rng), before: rng.hex(40), after: o.sha, cloneUrl, fullName: `${repo}/site`, deleted });
  if (kind === 'other') return { event: 'issues', payload: { action: 'opened', repository: p.repository } };
  return { event: 'push', payload: p };
}

const github: Sender = {
  repo: 'github',
  provider: 'github',
  secret: 'fuzz-github-secret-1',
  bodySigned: true,
  authHeaders: ['x-hub-signature-256', 'x-hub-signature'],
  build(rng, kind, o) {
    const { event, payload } = githubLike(this.repo, kind, rng, o);
    const isForm = rng.chance(0.3);
    const b: Built = {
      path: pathOf(o, this.repo),
      headers: [['content-type', isForm ? 'application/x-www-form-urlencoded' : 'application/json'], ['user-agent', 'GitHub-Hookshot/fuzz'], ['x-github-event', event], ['x-github-delivery', o.id]],
      body: isForm ? form(payload) : json(payload),
    };
    return this.sign(b, this.secret);
  },
  sign: (b, secret) => setHeader(b, 'x-hub-signature-256', `sha256=${hmacHex('sha256', secret, b.body)}`),
};

const gitlab: Sender = {
  repo: 'gitlab',
  provider: 'gitlab',
  secret: 'fuzz-gitlab-token-1',
  bodySigned: false,
  authHeaders: ['x-gitlab-token'],
  build(rng, kind, o) {
    const system = rng.chance(0.3);
    const base = fixture('gitlab', kind === 'tag' ? 'tag_push.json' : 'push.json');
    const project = { ...(base.project as object), path_with_namespace: `${this.repo}/site`, git_http_url: remoteOf(o, this.repo) };
    let payload: Record<string, unknown> = { ...base, ref: refFor(kind, rng), before: rng.hex(40), after: kind === 'delete' ? ZERO : o.sha, checkout_sha: kind === 'delete' ? null : o.sha, project };
    let event = kind === 'tag' ? 'Tag Push Hook' : 'Push Hook';
    if (kind === 'other' || kind === 'ping') {
      payload = system ? fixture('gitlab', 'system-user_create.json') : { object_kind: 'issue', project };
      event = 'Issue Hook';
    }
    if (system) {
      const { object_kind: kindName, ...rest } = payload;
      payload = { ...rest, event_name: payload.event_name ?? kindName };
      event = 'System Hook';
    }
    const b: Built = { path: pathOf(o, this.repo), headers: [['content-type', 'application/json'], ['x-gitlab-event', event], ['idempotency-key', o.id]], body: json(payload) };
    return this.sign(b, this.secret);
  },
  sign: (b, secret) => setHeader(b, 'x-gitlab-token', secret),
};

function bitbucketSign(b: Built, secret: string): Built {
  return setHeader(b, 'x-hub-signature', `sha256=${hmacHex('sha256', secret, b.body)}`);
}

const bitbucketCloud: Sender = {
  repo: 'bitbucket-cloud',
  provider: 'bitbucket-cloud',
  secret: 'fuzz-bbc-secret-1',
  bodySigned: true,
  authHeaders: ['x-hub-signature'],
  build(rng, kind, o) {
    const base = fixture('bitbucket-cloud', 'repo-push.json');
    const change = ((base.push as { changes: Record<string, unknown>[] }).changes[0] ?? {}) as Record<string, unknown>;
    const ref = refFor(kind, rng);
    const side = { ...(change.new as object), type: ref.startsWith('refs/tags/') ? 'tag' : 'branch', name: ref.replace(/^refs\/(heads|tags)\//, ''), target: { type: 'commit', hash: o.sha } };
    const next = kind === 'delete' ? { ...change, new: null, old: side, closed: true } : { ...change, new: side };
    const payload = { ...base, repository: { ...(base.repository as object), full_name: `${this.repo}/site` }, push: { changes: [next] } };
    const event = kind === 'other' || kind === 'ping' ? 'repo:fork' : 'repo:push';
    const b: Built = {
      path: pathOf(o, this.repo),
      headers: [['content-type', 'application/json'], ['user-agent', 'Bitbucket-Webhooks/2.0'], ['x-event-key', event], ['x-hook-uuid', o.id], ['x-request-uuid', o.id], ['x-attempt-number', '1']],
      body: json(payload),
    };
    return this.sign(b, this.secret);
  },
  sign: bitbucketSign,
};

const bitbucketServer: Sender = {
  repo: 'bitbucket-server',
  provider: 'bitbucket-server',
  secret: 'fuzz-bbs-secret-1',
  bodySigned: true,
  authHeaders: ['x-hub-signature'],
  build(rng, kind, o) {
    const base = fixture('bitbucket-server', 'repo-refs-changed-update.json');
    const ref = refFor(kind, rng);
    const repository = { ...(base.repository as object), slug: 'site', project: { key: this.repo.toUpperCase() }, links: { clone: [{ href: remoteOf(o, this.repo), name: 'http' }] } };
    const change = { ref: { id: ref, type: ref.startsWith('refs/tags/') ? 'TAG' : 'BRANCH' }, refId: ref, fromHash: rng.hex(40), toHash: kind === 'delete' ? ZERO : o.sha, type: kind === 'delete' ? 'DELETE' : 'UPDATE' };
    const event = kind === 'ping' ? 'diagnostics:ping' : kind === 'other' ? 'repo:modified' : 'repo:refs_changed';
    const body = kind === 'ping' ? json({ test: true }) : json({ ...base, repository, changes: [change] });
    const b: Built = { path: pathOf(o, this.repo), headers: [['content-type', 'application/json; charset=UTF-8'], ['x-event-key', event], ['x-request-id', o.id]], body };
    return this.sign(b, this.secret);
  },
  sign: bitbucketSign,
};

/** Senders that cannot sign: the token goes on the URL (or in X-Autopull-Token, or Basic auth). */
function tokenPath(path: string, secret: string): string {
  const bare = path.replace(/\?.*$/, '');
  return `${bare}?token=${encodeURIComponent(secret)}`;
}

const bitbucketLegacy: Sender = {
  repo: 'bitbucket-legacy',
  provider: 'bitbucket-legacy',
  secret: 'fuzz-legacy-token-1',
  bodySigned: false,
  authHeaders: [],
  build(rng, kind, o) {
    const base = fixture('bitbucket-legacy', 'post-service.json');
    const commit = { ...((base.commits as object[])[0] as object), branch: kind === 'push' ? 'main' : kind === 'untracked' ? `dev-${rng.int(99)}` : null, raw_node: o.sha };
    const payload = { ...base, canon_url: 'https://bitbucket.org', repository: { ...(base.repository as object), absolute_url: `/${this.repo}/site/` }, commits: [commit] };
    return this.sign({ path: pathOf(o, this.repo), headers: [['content-type', 'application/x-www-form-urlencoded']], body: form(payload) }, this.secret);
  },
  sign: (b, secret) => ({ ...b, path: tokenPath(b.path, secret) }),
};

function giteaLikeSender(repo: 'gitea' | 'forgejo' | 'gogs'): Sender {
  return {
    repo,
    provider: repo,
    secret: `fuzz-${repo}-secret-1`,
    bodySigned: true,
    authHeaders: ['x-gitea-signature', 'x-gogs-signature', 'x-forgejo-signature', 'x-hub-signature-256', 'x-hub-signature'],
    build(rng, kind, o) {
      const base = fixture(repo === 'gogs' ? 'gogs' : 'gitea', 'push.json');
      const repository = { ...(base.repository as object), full_name: `${repo}/site`, clone_url: remoteOf(o, repo) };
      let event = 'push';
      let payload: Record<string, unknown> = { ...base, ref: refFor(kind, rng), before: rng.hex(40), after: kind === 'delete' ? ZERO : o.sha, head_commit: null, repository };
      if (kind === 'ping') payload = { ...payload, before: o.sha };
      if (kind === 'other') event = 'issues';
      if (kind === 'delete' && rng.chance(0.5)) [event, payload] = ['delete', { ref: 'main', ref_type: 'branch', pusher_type: 'user', repository, sender: base.sender }];
      const isForm = rng.chance(0.3);
      const headers: [string, string][] = [['content-type', isForm ? 'application/x-www-form-urlencoded' : 'application/json'], ['x-gogs-delivery', o.id], ['x-gogs-event', event], ['x-github-delivery', o.id], ['x-github-event', event]];
      if (repo !== 'gogs') headers.push(['x-gitea-delivery', o.id], ['x-gitea-event', event]);
      if (repo === 'forgejo') headers.push(['x-forgejo-delivery', o.id], ['x-forgejo-event', event]);
      return this.sign({ path: pathOf(o, repo), headers, body: isForm ? form(payload) : json(payload) }, this.secret);
    },
    sign(b, secret) {
      // The HMAC covers the JSON text, also inside a form body (the payload field's bytes).
      const isForm = b.headers.some(([n, v]) => n.toLowerCase() === 'content-type' && v.startsWith('application/x-www-form-urlencoded'));
      const sig = hmacHex('sha256', secret, (isForm ? formField(b.body, 'payload') : null) ?? b.body);
      let out = setHeader(b, 'x-gogs-signature', sig);
      if (repo !== 'gogs') out = setHeader(setHeader(out, 'x-gitea-signature', sig), 'x-hub-signature-256', `sha256=${sig}`);
      if (repo === 'forgejo') out = setHeader(out, 'x-forgejo-signature', sig);
      return out;
    },
  };
}

const backlog: Sender = {
  repo: 'backlog',
  provider: 'backlog',
  secret: 'fuzz-backlog-token-1',
  bodySigned: false,
  authHeaders: [],
  build(rng, kind, o) {
    const base = fixture('backlog', 'push.json');
    const payload = { ...base, ref: refFor(kind, rng), before: rng.hex(40), after: kind === 'delete' ? ZERO : o.sha, repository: { url: `https://fuzz.backlog.com/git/${this.repo}/site.git`, name: 'site', description: '' } };
    return this.sign({ path: pathOf(o, this.repo), headers: [['content-type', 'application/x-www-form-urlencoded']], body: form(payload) }, this.secret);
  },
  sign: (b, secret) => ({ ...b, path: tokenPath(b.path, secret) }),
};

const azure: Sender = {
  repo: 'azure-devops',
  provider: 'azure-devops',
  secret: 'fuzz-azure-password-1',
  bodySigned: false,
  authHeaders: ['authorization'],
  build(rng, kind, o) {
    const base = fixture('azure-devops', kind === 'ping' ? 'git.push-test-notification.json' : 'git.push.json');
    const resource = base.resource as Record<string, unknown>;
    const repository = { ...(resource.repository as object), name: 'site', project: { name: this.repo }, remoteUrl: remoteOf(o, this.repo) };
    const update = { name: refFor(kind, rng), oldObjectId: rng.hex(40), newObjectId: kind === 'delete' ? ZERO : o.sha };
    const payload = { ...base, id: o.id, eventType: kind === 'other' ? 'git.pullrequest.created' : 'git.push', resource: { ...resource, repository, refUpdates: [update] } };
    return this.sign({ path: pathOf(o, this.repo), headers: [['content-type', 'application/json; charset=utf-8']], body: json(payload) }, this.secret);
  },
  sign: (b, secret) => setHeader(b, 'authorization', `Basic ${Buffer.from(`azure:${secret}`).toString('base64')}`),
};

const generic: Sender = {
  repo: 'generic',
  provider: 'generic',
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  bodySigned: true,
  authHeaders: ['webhook-signature', 'webhook-id', 'webhook-timestamp'],
  build(rng, kind, o) {
    const data = { ref: refFor(kind, rng), before: rng.hex(40), after: kind === 'delete' ? ZERO : o.sha, repository: { full_name: `${this.repo}/site`, clone_url: remoteOf(o, this.repo) } };
    const payload = kind === 'ping' ? { type: 'ping' } : kind === 'other' ? { type: 'issue.opened', data: {} } : { type: 'push', timestamp: new Date().toISOString(), data };
    const b: Built = { path: pathOf(o, this.repo), headers: [['content-type', 'application/json'], ['webhook-id', o.id]], body: json(payload) };
    return this.sign(b, this.secret);
  },
  sign(b, secret) {
    const id = b.headers.find(([n]) => n.toLowerCase() === 'webhook-id')?.[1] ?? 'msg_fuzz';
    const ts = Math.floor(Date.now() / 1000);
    return setHeader(setHeader(b, 'webhook-timestamp', String(ts)), 'webhook-signature', signStandardWebhook(secret, id, ts, b.body));
  },
};

export const SENDERS: readonly Sender[] = [github, gitlab, bitbucketCloud, bitbucketServer, bitbucketLegacy, giteaLikeSender('gitea'), giteaLikeSender('forgejo'), giteaLikeSender('gogs'), backlog, azure, generic];

export { setHeader, withoutHeaders };
