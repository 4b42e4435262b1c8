import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { githubDelivery, githubPing, githubPush, signGithub, type Delivery } from '../../test/helpers/github.js';

const SECRET = 'hook-test-secret';
const SHA = '1'.repeat(40);

interface Fixture {
  app: FastifyInstance;
  store: Store;
  kicked: string[];
}

async function fixture(t: { after(fn: () => unknown): void }, extra = ''): Promise<Fixture> {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
auth_token: test-token-0123456789
body_limit: 64KiB
repos:
  blog:
    url: git@github.com:acme/blog.git
    secret: ${SECRET}
    branches: [main, 'release/*']
    tags: ['v*']
    deploy: { path: ./srv }
  other:
    url: https://github.com/acme/other.git
    secret: other-secret
    deploy: { path: ./srv2 }
${extra}`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const kicked: string[] = [];
  const app = await buildApp({ config, store, logger: silentLogger(), kick: (r) => kicked.push(r), apiTokens: [] });
  t.after(async () => {
    await app.close();
    store.close();
  });
  return { app, store, kicked };
}

function push(ref = 'refs/heads/main', cloneUrl = 'https://github.com/acme/blog.git') {
  return githubPush({ ref, after: SHA, cloneUrl });
}

async function send(app: FastifyInstance, url: string, d: Delivery) {
  const res = await app.inject({ method: 'POST', url, headers: d.headers, payload: d.body });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

test('a signed push to a tracked branch is queued: 202 with the job id', async (t) => {
  const f = await fixture(t);
  const res = await send(f.app, '/hooks/blog', githubDelivery('push', push(), SECRET, { id: 'd-1' }));
  assert.equal(res.status, 202);
  assert.equal(res.body.ok, true);
  assert.equal(res.body.status, 'queued');
  assert.equal(res.body.delivery, 'd-1');
  const jobs = res.body.jobs as number[];
  assert.equal(jobs.length, 1);
  const job = f.store.getJob(jobs[0] as number);
  assert.equal(job?.repo, 'blog');
  assert.equal(job?.ref, 'refs/heads/main');
  assert.equal(job?.hint_sha, SHA);
  assert.equal(job?.state, 'queued');
  const [delivery] = f.store.listDeliveries();
  assert.equal(delivery?.outcome, 'queued');
  assert.equal(delivery?.headers['x-hub-signature-256'], '[redacted]');
});

test('the form-encoded (payload=) GitHub delivery is accepted; its signature covers the form body', async (t) => {
  const f = await fixture(t);
  const res = await send(f.app, '/hooks/blog', githubDelivery('push', push(), SECRET, { form: true }));
  assert.equal(res.status, 202);
});

test('a wrong signature is 403 and queues nothing; the message never shows the expected MAC', async (t) => {
  const f = await fixture(t);
  const d = githubDelivery('push', push(), 'not-the-secret');
  const res = await send(f.app, '/hooks/blog', d);
  assert.equal(res.status, 403);
  assert.equal(res.body.error, 'signature_mismatch');
  assert.match(String(res.body.message), /does not match the secret of repo blog/);
  const expected = signGithub(d.body, SECRET).slice(7);
  assert.ok(!JSON.stringify(res.body).includes(expected));
  assert.ok(!JSON.stringify(res.body).includes(SECRET));
  assert.equal(f.store.listJobs().length, 0);
  assert.equal(f.kicked.length, 0);
  assert.equal(f.store.listDeliveries()[0]?.status_code, 403, 'rejected deliveries are in the ledger too');
});

test('a missing signature is 401 and names the header', async (t) => {
  const f = await fixture(t);
  const res = await send(f.app, '/hooks/blog', githubDelivery('push', push(), null));
  assert.equal(res.status, 401);
  assert.equal(res.body.error, 'signature_missing');
  assert.match(String(res.body.message), /missing header X-Hub-Signature-256/);
  assert.equal(f.store.listJobs().length, 0);
});

test('malformed JSON and form bodies are 400 with what is wrong', async (t) => {
  const f = await fixture(t);
  const bad = '{"ref": "refs/heads/main",,}';
  const json = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(bad, SECRET) }, body: bad });
  assert.equal(json.status, 400);
  assert.equal(json.body.error, 'malformed_body');
  assert.match(String(json.body.message), /body is not valid JSON/);
  const form = 'nopayload=1';
  const f1 = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(form, SECRET) }, body: form });
  assert.equal(f1.status, 400);
  assert.match(String(f1.body.message), /no payload= field/);
  const form2 = 'payload=%7Bnot-json';
  const f2 = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(form2, SECRET) }, body: form2 });
  assert.equal(f2.status, 400);
  assert.match(String(f2.body.message), /payload field is not valid JSON/);
  const noRef = JSON.stringify({ repository: { full_name: 'acme/blog' } });
  const f3 = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(noRef, SECRET) }, body: noRef });
  assert.equal(f3.status, 400);
  assert.equal(f3.body.error, 'no_push_data');
  assert.equal(f.store.listJobs().length, 0);
});

test('unknown repo is 404; unknown sender 400; other content types 415; GET 405', async (t) => {
  const f = await fixture(t);
  const unknown = await send(f.app, '/hooks/nope', githubDelivery('push', push(), SECRET));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'unknown_repo');
  const sender = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(sender.status, 400);
  assert.equal(sender.body.error, 'unknown_sender');
  const text = 'hello';
  const type = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'text/plain', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(text, SECRET) }, body: text });
  assert.equal(type.status, 415);
  const get = await f.app.inject({ method: 'GET', url: '/hooks/blog' });
  assert.equal(get.statusCode, 405);
  assert.equal(get.headers.allow, 'POST');
  assert.equal(get.json().error, 'method_not_allowed');
  // Gitea, Forgejo and Gogs can be set to send hooks as GET with ?payload=: the answer says how to fix the hook.
  const gitea = await f.app.inject({ method: 'GET', url: '/hooks/blog?payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D', headers: { 'x-gitea-event': 'push' } });
  assert.equal(gitea.statusCode, 405);
  assert.match(gitea.json().message, /a hook sent as GET with \?payload= \(Gitea, Forgejo and Gogs can be set to\): set the hook's HTTP method to POST/);
});

test('a body over the limit is 413', async (t) => {
  const f = await fixture(t);
  const big = JSON.stringify({ ...push(), filler: 'x'.repeat(70 * 1024) });
  const res = await send(f.app, '/hooks/blog', { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(big, SECRET) }, body: big });
  assert.equal(res.status, 413);
  assert.equal(res.body.error, 'body_too_large');
});

test('ping answers 200 and queues nothing', async (t) => {
  const f = await fixture(t);
  const res = await send(f.app, '/hooks/blog', githubDelivery('ping', githubPing('https://github.com/acme/blog.git'), SECRET));
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'ping');
  assert.equal(f.store.listJobs().length, 0);
});

test('untracked refs, deleted refs and other events answer 200 with the reason', async (t) => {
  const f = await fixture(t);
  const dev = await send(f.app, '/hooks/blog', githubDelivery('push', push('refs/heads/dev'), SECRET));
  assert.equal(dev.status, 200);
  assert.equal(dev.body.status, 'ignored');
  assert.match(String(dev.body.message), /refs\/heads\/dev is not tracked by repo blog \(branches: main, release\/\*; tags: v\*\)/);
  const del = await send(f.app, '/hooks/blog', githubDelivery('push', githubPush({ ref: 'refs/heads/main', after: SHA, cloneUrl: 'x', deleted: true }), SECRET));
  assert.equal(del.status, 200);
  assert.match(String(del.body.message), /deleted/);
  const issue = await send(f.app, '/hooks/blog', githubDelivery('issues', { action: 'opened' }, SECRET));
  assert.equal(issue.status, 200);
  assert.match(String(issue.body.message), /"issues" is not a push/);
  const glob = await send(f.app, '/hooks/blog', githubDelivery('push', push('refs/heads/release/2.0'), SECRET));
  assert.equal(glob.status, 202, 'branch globs match across slashes');
  const tag = await send(f.app, '/hooks/other', githubDelivery('push', push('refs/tags/v1'), 'other-secret'));
  assert.equal(tag.status, 200, 'tags deploy only where tags: lists them');
});

test('the same delivery id twice: 200 duplicate, nothing more queued', async (t) => {
  const f = await fixture(t);
  const d = githubDelivery('push', push(), SECRET, { id: 'same-id' });
  assert.equal((await send(f.app, '/hooks/blog', d)).status, 202);
  const again = await send(f.app, '/hooks/blog', d);
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 'duplicate');
  assert.equal(f.store.listJobs().length, 1);
  assert.equal(f.kicked.length, 1);
});

test('POST /hooks finds the repo from any spelling of its URL, among repos whose secret verifies', async (t) => {
  const f = await fixture(t);
  for (const url of ['https://github.com/acme/blog.git', 'git@github.com:acme/blog.git', 'ssh://git@github.com:22/acme/blog', 'https://github.com/ACME/blog/']) {
    const p = githubPush({ after: SHA, cloneUrl: url, fullName: 'someone/else' });
    const res = await send(f.app, '/hooks', githubDelivery('push', p, SECRET));
    assert.equal(res.status, 202, url);
    assert.equal(f.store.getJob((res.body.jobs as number[])[0] as number)?.repo, 'blog');
  }
  const byName = githubPush({ after: SHA, cloneUrl: 'https://mirror.example/x.git', fullName: 'acme/blog' });
  assert.equal((await send(f.app, '/hooks', githubDelivery('push', byName, SECRET))).status, 202, 'full_name alone matches');
  const wrongSecret = await send(f.app, '/hooks', githubDelivery('push', push(), 'other-secret'));
  assert.equal(wrongSecret.status, 403);
  const noMatch = await send(f.app, '/hooks', githubDelivery('push', githubPush({ after: SHA, cloneUrl: 'https://github.com/acme/unknown.git', fullName: 'acme/unknown' }), SECRET));
  assert.equal(noMatch.status, 404);
  assert.equal(noMatch.body.error, 'no_matching_repo');
});

test('allow_ips refuses other addresses with 403', async (t) => {
  const f = await fixture(t, `  walled:
    url: https://github.com/acme/walled.git
    secret: ${SECRET}
    allow_ips: [10.0.0.0/8]
    deploy: { path: ./srv3 }
`);
  const res = await send(f.app, '/hooks/walled', githubDelivery('push', push(), SECRET));
  assert.equal(res.status, 403);
  assert.equal(res.body.error, 'ip_not_allowed');
  assert.match(String(res.body.message), /127\.0\.0\.1 is not in allow_ips of repo walled/);
});

test('an invalid ref name is refused before it is used anywhere', async (t) => {
  const f = await fixture(t);
  const res = await send(f.app, '/hooks/blog', githubDelivery('push', push('refs/heads/main..x'), SECRET));
  assert.equal(res.status, 400);
  assert.match(String(res.body.message), /not a valid git ref name/);
});

test('the API wants the bearer token', async (t) => {
  const f = await fixture(t);
  assert.equal((await f.app.inject({ method: 'GET', url: '/api/repos' })).statusCode, 401);
  assert.equal((await f.app.inject({ method: 'GET', url: '/api/repos', headers: { authorization: 'Bearer wrong' } })).statusCode, 403);
  const ok = await f.app.inject({ method: 'GET', url: '/api/repos', headers: { authorization: 'Bearer test-token-0123456789' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual((ok.json().repos as { repo: string }[]).map((r) => r.repo), ['blog', 'other']);
  const deploy = await f.app.inject({ method: 'POST', url: '/api/repos/blog/deploy', headers: { authorization: 'Bearer test-token-0123456789' }, payload: '{"ref":"main"}' });
  assert.equal(deploy.statusCode, 202);
  const bad = await f.app.inject({ method: 'POST', url: '/api/repos/blog/deploy', headers: { authorization: 'Bearer test-token-0123456789' }, payload: '{"ref":"-x"}' });
  assert.equal(bad.statusCode, 400);
  assert.equal((await f.app.inject({ method: 'GET', url: '/healthz' })).json().ok, true);
});

test('the API token cannot be skipped with a percent-encoded path', async (t) => {
  const f = await fixture(t);
  for (const url of ['/%61pi/repos', '/%61%70%69/jobs', '/api/%72epos']) {
    const res = await f.app.inject({ method: 'GET', url });
    assert.ok(res.statusCode === 401 || res.statusCode === 404, `${url}: ${res.statusCode}`);
  }
  const post = await f.app.inject({ method: 'POST', url: '/%61pi/repos/blog/deploy', payload: '{}' });
  assert.ok(post.statusCode === 401 || post.statusCode === 404, `deploy: ${post.statusCode}`);
  assert.equal(f.store.listJobs().length, 0);
});

test('a delivery id is a duplicate only for the repo that accepted it', async (t) => {
  const f = await fixture(t);
  assert.equal((await send(f.app, '/hooks/other', githubDelivery('push', push('refs/heads/main', 'https://github.com/acme/other.git'), 'other-secret', { id: 'shared-id' }))).status, 202);
  const blog = await send(f.app, '/hooks/blog', githubDelivery('push', push(), SECRET, { id: 'shared-id' }));
  assert.equal(blog.status, 202, 'repo other cannot burn repo blog\'s delivery ids');
});

test('a delivery that failed authentication cannot be redelivered', async (t) => {
  const f = await fixture(t);
  await send(f.app, '/hooks/blog', githubDelivery('push', push(), 'forged'));
  const [d] = f.store.listDeliveries();
  const res = await f.app.inject({ method: 'POST', url: `/api/deliveries/${d?.id}/redeliver`, headers: { authorization: 'Bearer test-token-0123456789' } });
  assert.equal(res.statusCode, 409);
  assert.match(res.json().message, /failed authentication/);
  assert.equal(f.store.listJobs().length, 0);
});
