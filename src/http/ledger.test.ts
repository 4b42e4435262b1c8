import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { ConfigError } from '../lib/errors.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { githubDelivery, githubPush, signGithub } from '../../test/helpers/github.js';

const SECRET = 'ledger-secret-123';
const AUTH = { authorization: 'Bearer test-token-0123456789' };

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
auth_token: test-token-0123456789
body_limit: 64KiB
repos:
  blog: { url: 'https://github.com/acme/blog.git', secret: ${SECRET}, deploy: { path: ./srv } }
`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  t.after(async () => {
    await app.close();
    store.close();
  });
  return { app, store };
}

test('a GitHub redelivery keeps its id: 200 duplicate; the API re-runs it on purpose as a new linked ledger row', async (t) => {
  const { app, store } = await setup(t);
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), SECRET, { id: 'gh-1' });
  const first = await app.inject({ method: 'POST', url: '/hooks/blog', headers: d.headers, payload: d.body });
  assert.equal(first.statusCode, 202);
  const again = await app.inject({ method: 'POST', url: '/hooks/blog', headers: d.headers, payload: d.body });
  assert.equal(again.json().status, 'duplicate');
  const original = store.listDeliveries().find((x) => x.outcome === 'queued');
  assert.ok(original);
  assert.equal(original.headers['x-hub-signature-256'], '[redacted]');
  store.finishJob((first.json().jobs as number[])[0] as number, 'failed', 'build failed');
  const unauth = await app.inject({ method: 'POST', url: `/api/deliveries/${original.id}/redeliver` });
  assert.equal(unauth.statusCode, 401);
  const re = await app.inject({ method: 'POST', url: `/api/deliveries/${original.id}/redeliver`, headers: AUTH });
  assert.equal(re.statusCode, 202, re.body);
  assert.equal(re.json().status, 'queued');
  assert.equal(re.json().delivery, 'gh-1');
  assert.equal(re.json().redelivery_of, original.id);
  const row = store.listDeliveries({ limit: 1 })[0];
  assert.equal(row?.redelivery_of, original.id);
  assert.equal(store.listJobs({ states: ['queued'] }).length, 1);
  assert.equal((await app.inject({ method: 'POST', url: '/api/deliveries/9999/redeliver', headers: AUTH })).statusCode, 404);
});

test('a delivery whose body was not stored whole cannot be redelivered: 409 with the reason', async (t) => {
  const { app, store } = await setup(t);
  const big = JSON.stringify({ filler: 'x'.repeat(70 * 1024) });
  await app.inject({ method: 'POST', url: '/hooks/blog', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(big, SECRET) }, payload: big });
  const row = store.listDeliveries({ limit: 1 })[0];
  assert.equal(row?.body_truncated, true);
  const res = await app.inject({ method: 'POST', url: `/api/deliveries/${row?.id}/redeliver`, headers: AUTH });
  assert.equal(res.statusCode, 409);
  assert.equal(res.json().error, 'conflict');
  assert.match(res.json().message, /not stored whole/);
});

test('a deleted tracked branch is a job in state ignored that never runs', async (t) => {
  const { app, store } = await setup(t);
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'x', deleted: true }), SECRET);
  const res = await app.inject({ method: 'POST', url: '/hooks/blog', headers: d.headers, payload: d.body });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().status, 'ignored');
  const [job] = store.listJobs();
  assert.equal(job?.state, 'ignored');
  assert.match(job?.reason ?? '', /deleted/);
  assert.equal(store.claim('blog', process.pid), null);
});

test('malformed JSON names the position and echoes none of the body', async (t) => {
  const { app } = await setup(t);
  const bad = '{"ref": "secretish",,}';
  const res = await app.inject({ method: 'POST', url: '/hooks/blog', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signGithub(bad, SECRET) }, payload: bad });
  assert.equal(res.statusCode, 400);
  assert.match(res.json().message, /^body is not valid JSON at position 20: /);
  assert.ok(!res.body.includes('secretish'));
});

test('autopull check refuses a config pinning an unknown sender', () => {
  assert.throws(
    () => parseConfigText(`repos:\n  blog: { url: /srv/x.git, secret: s, providers: [github, gitbucket], deploy: { path: /srv/b } }\n`, '/x/autopull.yml', {}),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('repos.blog.providers[1]:')),
  );
});
