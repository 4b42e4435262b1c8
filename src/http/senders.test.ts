import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';
import type { Delivery } from '../../test/helpers/github.js';
import {
  azureDelivery,
  bitbucketCloudDelivery,
  bitbucketServerDelivery,
  fixture,
  formDelivery,
  giteaLikeDelivery,
  gitlabDelivery,
  gitlabSignedDelivery,
  standardWebhooksDelivery,
} from '../../test/helpers/senders.js';

// Every sender through the real app (inject) and a real SQLite store, with vendor samples.
const S = 'sender-secret-1234';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = 1_714_000_000;
const ZERO = '0000000000000000000000000000000000000000';

const CONFIG = `data_dir: ./data
auth_token: test-token-0123456789
body_limit: 64KiB
repos:
  gl: { url: 'http://example.com/mike/diaspora.git', secret: ${S}, branches: [master], tags: ['v*'], providers: [gitlab], deploy: { path: ./srv1 } }
  glsig: { url: 'http://example.com/jsmith/example.git', secret: ${WHSEC}, branches: [master], deploy: { path: ./srv2 } }
  bbc: { url: 'https://bitbucket.org/team_name/repo_name.git', secret: ${S}, branches: [name-of-branch, main], tags: ['v*'], deploy: { path: ./srv3 } }
  bbs: { url: 'https://bitbucketserver/scm/myproject/test-repo.git', secret: ${S}, branches: [master, 'feature/*'], deploy: { path: ./srv4 } }
  bbl: { url: 'https://bitbucket.org/marcus/project-x.git', secret: ${S}, branches: [master, default], deploy: { path: ./srv5 } }
  gitea: { url: 'http://localhost:3000/example/example.git', secret: ${S}, branches: [master, example3], tags: ['v*'], deploy: { path: ./srv6 } }
  forgejo: { url: 'https://codeberg.example/example/example.git', secret: ${S}, branches: [master, example3], deploy: { path: ./srv7 } }
  gogs: { url: 'http://localhost:3000/unknwon/webhooks.git', secret: ${S}, branches: [develop], tags: ['v*'], deploy: { path: ./srv8 } }
  backlog: { url: 'https://example.backlog.com/git/PROJ/website.git', secret: ${S}, branches: [master], deploy: { path: ./srv9 } }
  azure: { url: 'https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git', secret: ${S}, branches: [main, 'release/*'], deploy: { path: ./srv10 } }
  generic: { url: 'https://git.example.com/acme/tool.git', secret: ${WHSEC}, branches: [main], deploy: { path: ./srv11 } }
  gtoken: { url: 'https://git.example.com/acme/other.git', secret: ${S}, branches: [main], providers: [generic], deploy: { path: ./srv12 } }
`;

interface F {
  app: FastifyInstance;
  store: Store;
}

async function app(t: { after(fn: () => unknown): void }): Promise<F> {
  const dir = tempDir(t);
  const config = parseConfigText(CONFIG, join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const a = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [], now: () => new Date(NOW * 1000) });
  t.after(async () => {
    await a.close();
    store.close();
  });
  return { app: a, store };
}

async function send(f: F, url: string, d: Delivery) {
  const res = await f.app.inject({ method: 'POST', url, headers: d.headers, payload: d.body });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

/** 202, one job for `repo` on `ref` with the sha hint `sha`. */
function assertQueued(f: F, res: { status: number; body: Record<string, unknown> }, repo: string, ref: string, sha: string | null) {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const ids = res.body.jobs as number[];
  assert.equal(ids.length, 1);
  const job = f.store.getJob(ids[0] as number);
  assert.equal(job?.repo, repo);
  assert.equal(job?.ref, ref);
  assert.equal(job?.hint_sha, sha);
  assert.equal(job?.state, 'queued');
}

function assertStatus(res: { status: number; body: Record<string, unknown> }, status: number, what: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.status < 300 ? res.body.status : res.body.error, what, JSON.stringify(res.body));
}

test('GitLab: push 202, wrong token 403, no token 401, tags by tags: globs, deletion ignored', async (t) => {
  const f = await app(t);
  const push = fixture('gitlab', 'push.json');
  assertQueued(f, await send(f, '/hooks/gl', gitlabDelivery(push, S)), 'gl', 'refs/heads/master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
  const wrong = await send(f, '/hooks/gl', gitlabDelivery(push, 'nope'));
  assertStatus(wrong, 403, 'token_mismatch');
  assert.match(String(wrong.body.message), /X-Gitlab-Token does not match the secret of repo gl/);
  const none = await send(f, '/hooks/gl', gitlabDelivery(push, null));
  assertStatus(none, 401, 'token_missing');
  assert.match(String(none.body.message), /missing header X-Gitlab-Token/);
  const tag = fixture('gitlab', 'tag_push.json');
  assertQueued(f, await send(f, '/hooks/gl', gitlabDelivery(tag, S, { event: 'Tag Push Hook' })), 'gl', 'refs/tags/v1.0.0', '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7');
  // Annotated tag: `after` is the tag object, checkout_sha the commit to deploy.
  const annotated = { ...tag, after: 'a'.repeat(40), checkout_sha: 'c'.repeat(40) };
  assertQueued(f, await send(f, '/hooks/gl', gitlabDelivery(annotated, S, { event: 'Tag Push Hook' })), 'gl', 'refs/tags/v1.0.0', 'c'.repeat(40));
  const untagged = await send(f, '/hooks/glsig', gitlabSignedDelivery({ ...tag }, WHSEC, NOW));
  assertStatus(untagged, 200, 'ignored');
  const deleted = await send(f, '/hooks/gl', gitlabDelivery({ ...push, after: ZERO, checkout_sha: null }, S));
  assertStatus(deleted, 200, 'ignored');
  const issue = await send(f, '/hooks/gl', gitlabDelivery({ object_kind: 'issue', project: push.project }, S, { event: 'Issue Hook' }));
  assertStatus(issue, 200, 'ignored');
});

test('GitLab with a signing token: Standard Webhooks headers verify; a stale or forged one fails', async (t) => {
  const f = await app(t);
  const push = fixture('gitlab', 'push.json');
  const ok = await send(f, '/hooks/glsig', gitlabSignedDelivery(push, WHSEC, NOW - 10));
  assertQueued(f, ok, 'glsig', 'refs/heads/master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
  const stale = await send(f, '/hooks/glsig', gitlabSignedDelivery(push, WHSEC, NOW - 600));
  assertStatus(stale, 403, 'signature_mismatch');
  assert.match(String(stale.body.message), /600 s away/);
  const forged = await send(f, '/hooks/glsig', gitlabSignedDelivery(push, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', NOW));
  assertStatus(forged, 403, 'signature_mismatch');
});

test('Bitbucket Cloud: repo:push 202, wrong signature 403, none 401, tag and deletion, other events 200', async (t) => {
  const f = await app(t);
  const push = fixture('bitbucket-cloud', 'repo-push.json');
  assertQueued(f, await send(f, '/hooks/bbc', bitbucketCloudDelivery(push, S)), 'bbc', 'refs/heads/name-of-branch', '709d658dc5b6d6afcd46049c2f332ee3f515a67d');
  assertStatus(await send(f, '/hooks/bbc', bitbucketCloudDelivery(push, 'nope')), 403, 'signature_mismatch');
  const none = await send(f, '/hooks/bbc', bitbucketCloudDelivery(push, null));
  assertStatus(none, 401, 'signature_missing');
  assert.match(String(none.body.message), /missing header X-Hub-Signature/);
  const change = (push.push as { changes: Record<string, unknown>[] }).changes[0] as Record<string, unknown>;
  const tagChange = { ...change, new: { ...(change.new as object), type: 'tag', name: 'v2.0' }, old: null };
  assertQueued(f, await send(f, '/hooks/bbc', bitbucketCloudDelivery({ ...push, push: { changes: [tagChange] } }, S)), 'bbc', 'refs/tags/v2.0', '709d658dc5b6d6afcd46049c2f332ee3f515a67d');
  const gone = await send(f, '/hooks/bbc', bitbucketCloudDelivery({ ...push, push: { changes: [{ ...change, new: null, closed: true }] } }, S));
  assertStatus(gone, 200, 'ignored');
  assert.equal(f.store.getJob((gone.body.jobs as number[])[0] as number)?.state, 'ignored', 'the job list shows the deletion as ignored');
  assertStatus(await send(f, '/hooks/bbc', bitbucketCloudDelivery(push, S, 'repo:fork')), 200, 'ignored');
});

test('Bitbucket Data Center: refs_changed 202, diagnostics:ping 200, deletion ignored, auth failures', async (t) => {
  const f = await app(t);
  const update = fixture('bitbucket-server', 'repo-refs-changed-update.json');
  assertQueued(f, await send(f, '/hooks/bbs', bitbucketServerDelivery(update, S)), 'bbs', 'refs/heads/master', '22671f0349857934857983457983475ec39f196b');
  assertStatus(await send(f, '/hooks/bbs', bitbucketServerDelivery(update, 'nope')), 403, 'signature_mismatch');
  assertStatus(await send(f, '/hooks/bbs', bitbucketServerDelivery(update, null)), 401, 'signature_missing');
  assertStatus(await send(f, '/hooks/bbs', bitbucketServerDelivery({ test: true }, S, 'diagnostics:ping')), 200, 'ping');
  const deleted = await send(f, '/hooks/bbs', bitbucketServerDelivery(fixture('bitbucket-server', 'repo-refs-changed.json'), S));
  assertStatus(deleted, 200, 'ignored');
  assert.match(String(deleted.body.message), /refs\/heads\/feature\/wip was deleted/);
  const tag = { ...update, changes: [{ ref: { id: 'refs/tags/v1', displayId: 'v1', type: 'TAG' }, refId: 'refs/tags/v1', fromHash: ZERO, toHash: 'b'.repeat(40), type: 'ADD' }] };
  assertStatus(await send(f, '/hooks/bbs', bitbucketServerDelivery(tag, S)), 200, 'ignored');
});

test('a multi-ref delivery queues one job per repo, for the newest matching update', async (t) => {
  const f = await app(t);
  const update = fixture('bitbucket-server', 'repo-refs-changed-update.json');
  const change = (ref: string, to: string, type = 'UPDATE') => ({ ref: { id: ref, type: 'BRANCH' }, refId: ref, fromHash: '1'.repeat(40), toHash: to, type });
  const multi = { ...update, changes: [change('refs/heads/master', 'a'.repeat(40)), change('refs/heads/dev', 'd'.repeat(40)), change('refs/heads/feature/x', 'f'.repeat(40)), change('refs/heads/feature/y', ZERO, 'DELETE')] };
  assertQueued(f, await send(f, '/hooks/bbs', bitbucketServerDelivery(multi, S)), 'bbs', 'refs/heads/feature/x', 'f'.repeat(40));
});

test('legacy Bitbucket POST service: form payload, branch from the commits, git and hg, token auth', async (t) => {
  const f = await app(t);
  const post = fixture('bitbucket-legacy', 'post-service.json');
  assertQueued(f, await send(f, `/hooks/bbl?token=${S}`, formDelivery(post)), 'bbl', 'refs/heads/master', '620ade18607ac42d872b568bb92acaa9a28620e9');
  assertStatus(await send(f, '/hooks/bbl?token=nope', formDelivery(post)), 403, 'token_mismatch');
  const none = await send(f, '/hooks/bbl', formDelivery(post));
  assertStatus(none, 401, 'token_missing');
  const hg = { ...post, repository: { ...(post.repository as object), scm: 'hg' }, commits: [{ ...(post.commits as object[])[0], branch: 'default', raw_node: 'e'.repeat(40) }] };
  assertQueued(f, await send(f, '/hooks/bbl', { ...formDelivery(hg), headers: { ...formDelivery(hg).headers, 'x-autopull-token': S } }), 'bbl', 'refs/heads/default', 'e'.repeat(40));
  const noBranch = { ...post, commits: [{ ...(post.commits as object[])[0], branch: null }] };
  assertStatus(await send(f, `/hooks/bbl?token=${S}`, formDelivery(noBranch)), 200, 'ignored');
  // The query-string token is never stored.
  assert.ok(f.store.listDeliveries().every((d) => !JSON.stringify(d.headers).includes(S) && !d.body.toString().includes(S)));
});

for (const sender of ['gitea', 'forgejo', 'gogs'] as const) {
  test(`${sender}: push (JSON and form) 202, empty signature fails, test delivery 200, deletions and create/delete events`, async (t) => {
    const f = await app(t);
    const push = sender === 'gogs' ? fixture('gogs', 'push.json') : fixture('gitea', 'push.json');
    const [ref, after] = [push.ref as string, push.after as string];
    assertQueued(f, await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', push, S)), sender, ref, after);
    assertQueued(f, await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', push, S, { form: true })), sender, ref, after);
    const wrong = await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', push, 'nope'));
    assertStatus(wrong, 403, 'signature_mismatch');
    const empty = await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', push, null));
    assertStatus(empty, 403, 'signature_mismatch');
    assert.match(String(empty.body.message), /is empty/);
    const missing = giteaLikeDelivery(sender, 'push', push, S);
    for (const h of Object.keys(missing.headers)) if (h.includes('signature')) delete missing.headers[h];
    assertStatus(await send(f, `/hooks/${sender}`, missing), 401, 'signature_missing');
    // Form bodies: the signature covers the JSON, so a MAC of the form body must fail.
    const formBody = giteaLikeDelivery(sender, 'push', push, S, { form: true });
    const { createHmac } = await import('node:crypto');
    const overForm = createHmac('sha256', S).update(formBody.body).digest('hex');
    for (const h of Object.keys(formBody.headers)) if (/^x-(gitea|gogs|forgejo)-signature$/.test(h)) formBody.headers[h] = overForm;
    assertStatus(await send(f, `/hooks/${sender}`, formBody), 403, 'signature_mismatch');
    assertStatus(await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', { ...push, before: after }, S)), 200, 'ping');
    const tagPush = { ...push, ref: 'refs/tags/v1.2' };
    if (sender === 'forgejo') assertStatus(await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', tagPush, S)), 200, 'ignored');
    else assertQueued(f, await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', tagPush, S)), sender, 'refs/tags/v1.2', after);
    const branchDelete = { ...fixture('gitea', 'delete-branch.json'), ref: (ref as string).replace('refs/heads/', '') };
    const del = await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'delete', branchDelete, S));
    assertStatus(del, 200, 'ignored');
    assert.match(String(del.body.message), /was deleted/);
    assert.equal(f.store.getJob((del.body.jobs as number[])[0] as number)?.state, 'ignored');
    const create = await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'create', { ...branchDelete, sha: after }, S));
    assertStatus(create, 200, 'ignored');
    assert.match(String(create.body.message), /repeats what the push event/);
  });
}

test('Gitea and Forgejo are told apart from GitHub and Gogs by their own headers', async (t) => {
  const f = await app(t);
  const push = fixture('gitea', 'push.json');
  for (const sender of ['gitea', 'forgejo', 'gogs'] as const) {
    await send(f, `/hooks/${sender}`, giteaLikeDelivery(sender, 'push', push, S));
    assert.equal(f.store.listDeliveries({ limit: 1 })[0]?.provider, sender);
  }
});

test('Backlog: form payload with the token on the URL; deletion ignored; no token 401', async (t) => {
  const f = await app(t);
  const push = fixture('backlog', 'push.json');
  assertQueued(f, await send(f, `/hooks/backlog?token=${S}`, formDelivery(push)), 'backlog', 'refs/heads/master', push.after as string);
  assertStatus(await send(f, '/hooks/backlog?token=wrong', formDelivery(push)), 403, 'token_mismatch');
  assertStatus(await send(f, '/hooks/backlog', formDelivery(push)), 401, 'token_missing');
  assertStatus(await send(f, `/hooks/backlog?token=${S}`, formDelivery({ ...push, after: ZERO })), 200, 'ignored');
  assertStatus(await send(f, `/hooks/backlog?token=${S}`, formDelivery({ ...push, ref: 'refs/tags/v1' })), 200, 'ignored');
});

test('Azure DevOps: git.push with Basic auth 202, test notification 200, several refUpdates, deletion', async (t) => {
  const f = await app(t);
  const push = fixture('azure-devops', 'git.push.json');
  assertQueued(f, await send(f, '/hooks/azure', azureDelivery(push, S)), 'azure', 'refs/heads/main', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  assertStatus(await send(f, '/hooks/azure', azureDelivery(push, 'nope')), 403, 'token_mismatch');
  assertStatus(await send(f, '/hooks/azure', azureDelivery(push, null)), 401, 'token_missing');
  assertStatus(await send(f, '/hooks/azure', azureDelivery({ ...push, id: 'test-1', subscriptionId: '00000000-0000-0000-0000-000000000000' }, S)), 200, 'ping');
  const resource = push.resource as Record<string, unknown>;
  const two = { ...push, id: 'two', resource: { ...resource, refUpdates: [{ name: 'refs/heads/release/1', oldObjectId: ZERO, newObjectId: '1'.repeat(40) }, { name: 'refs/tags/v9', oldObjectId: ZERO, newObjectId: '9'.repeat(40) }] } };
  assertQueued(f, await send(f, '/hooks/azure', azureDelivery(two, S)), 'azure', 'refs/heads/release/1', '1'.repeat(40));
  const del = { ...push, id: 'del', resource: { ...resource, refUpdates: [{ name: 'refs/heads/main', oldObjectId: '1'.repeat(40), newObjectId: ZERO }] } };
  assertStatus(await send(f, '/hooks/azure', azureDelivery(del, S)), 200, 'ignored');
  const again = await send(f, '/hooks/azure', azureDelivery(push, S));
  assertStatus(again, 200, 'duplicate');
});

test('generic: Standard Webhooks signed push 202, ping 200, token sender, failures', async (t) => {
  const f = await app(t);
  const push = fixture('generic', 'standard-webhooks-push.json');
  const d = standardWebhooksDelivery(push, WHSEC, NOW);
  assertQueued(f, await send(f, '/hooks/generic', d), 'generic', 'refs/heads/main', '8f2c4e6a1b3d5f7091a2b3c4d5e6f708192a3b4c');
  assertStatus(await send(f, '/hooks/generic', d), 200, 'duplicate');
  assertStatus(await send(f, '/hooks/generic', standardWebhooksDelivery({ type: 'ping' }, WHSEC, NOW)), 200, 'ping');
  assertStatus(await send(f, '/hooks/generic', standardWebhooksDelivery(push, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', NOW)), 403, 'signature_mismatch');
  const body = JSON.stringify(push.data);
  assertQueued(f, await send(f, '/hooks/gtoken', { headers: { 'content-type': 'application/json', 'x-autopull-token': S }, body }), 'gtoken', 'refs/heads/main', '8f2c4e6a1b3d5f7091a2b3c4d5e6f708192a3b4c');
  assertStatus(await send(f, '/hooks/gtoken', { headers: { 'content-type': 'application/json', 'x-autopull-token': 'no' }, body }), 403, 'token_mismatch');
  const none = await send(f, '/hooks/gtoken', { headers: { 'content-type': 'application/json' }, body });
  assertStatus(none, 400, 'unknown_sender');
  const delBody = JSON.stringify({ ...(push.data as object), after: ZERO });
  assertStatus(await send(f, `/hooks/gtoken?token=${S}`, { headers: { 'content-type': 'application/json' }, body: delBody }), 200, 'ignored');
});

test('POST /hooks finds the repo by payload for every sender', async (t) => {
  const f = await app(t);
  const cases: [string, Delivery][] = [
    ['gl', gitlabDelivery(fixture('gitlab', 'push.json'), S)],
    ['bbc', bitbucketCloudDelivery(fixture('bitbucket-cloud', 'repo-push.json'), S)],
    ['bbs', bitbucketServerDelivery(fixture('bitbucket-server', 'repo-refs-changed-update.json'), S)],
    ['gitea', giteaLikeDelivery('gitea', 'push', fixture('gitea', 'push.json'), S)],
    ['gogs', giteaLikeDelivery('gogs', 'push', fixture('gogs', 'push.json'), S)],
    ['azure', azureDelivery(fixture('azure-devops', 'git.push.json'), S)],
    ['generic', standardWebhooksDelivery(fixture('generic', 'standard-webhooks-push.json'), WHSEC, NOW)],
  ];
  for (const [repo, d] of cases) {
    const res = await send(f, '/hooks', d);
    assert.equal(res.status, 202, `${repo}: ${JSON.stringify(res.body)}`);
    assert.equal(f.store.getJob((res.body.jobs as number[])[0] as number)?.repo, repo);
  }
  const legacy = await send(f, `/hooks?token=${S}`, formDelivery(fixture('bitbucket-legacy', 'post-service.json')));
  assert.equal(legacy.status, 202, JSON.stringify(legacy.body));
  const backlog = await send(f, `/hooks?token=${S}`, formDelivery(fixture('backlog', 'push.json')));
  assert.equal(backlog.status, 202, JSON.stringify(backlog.body));
});

test('a repo pinned to a sender refuses others as unknown senders', async (t) => {
  const f = await app(t);
  const res = await send(f, '/hooks/gl', giteaLikeDelivery('gitea', 'push', fixture('gitea', 'push.json'), S));
  assertStatus(res, 400, 'unknown_sender');
  assert.match(String(res.body.message), /accepted here: GitLab/);
});
