import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { servedApp, type ServedApp } from '../../../test/helpers/served-app.js';
import { login, pageCsrf, postForm } from '../../../test/helpers/dashboard-http.js';
import { githubDelivery, githubPush } from '../../../test/helpers/github.js';

// The repo page and its buttons through the real server on 127.0.0.1 (fetch, no browser; the
// browser tests drive the same buttons against a worker that runs the jobs).
const SECRET = 'repo-page-secret-0123';
const YAML = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: ${SECRET}, deploy: { path: ./srv } }
  docs: { url: 'https://github.com/acme/docs.git', secret: ${SECRET}, mirror: [{ url: 'https://example.com/docs.git' }] }
`;
const OLD = '20261101T100000-aaaaaaa';
const LIVE = '20261102T100000-bbbbbbb';
const BAD_SHA = 'c'.repeat(40);

/** Two releases of `site` on record, LIVE the one `current` points at, and a commit marked bad. */
function seed(s: ServedApp): void {
  s.store.putRelease({ repo: 'site', id: OLD, sha: 'a'.repeat(40), job_id: null, state: 'replaced' });
  s.store.putRelease({ repo: 'site', id: LIVE, sha: 'b'.repeat(40), job_id: null, state: 'live' });
  s.store.putRelease({ repo: 'site', id: '20261103T100000-ccccccc', sha: BAD_SHA, job_id: null, state: 'failed' });
  const srv = join(s.dir, 'srv');
  mkdirSync(join(srv, 'releases', LIVE), { recursive: true });
  symlinkSync(join('releases', LIVE), join(srv, 'current'));
  s.store.markBad('site', BAD_SHA, 'health check failed', null);
}

test('the repo page shows which release is live, which passed health and which failed, the bad commits and the buttons', async (t) => {
  const s = await servedApp(t, YAML);
  seed(s);
  const { cookie } = await login(s);
  const res = await fetch(`${s.url}/repos/site`, { headers: { cookie } });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, new RegExp(`<tr data-release="${LIVE}" data-state="live" data-current="yes">`));
  assert.match(html, new RegExp(`<tr data-release="${OLD}" data-state="replaced">[\\s\\S]*?data-health="good"`));
  assert.match(html, /data-state="failed">[\s\S]*?data-health="failed"/);
  assert.match(html, new RegExp(`<tr data-bad="${BAD_SHA}">[\\s\\S]*?health check failed[\\s\\S]*?action="/repos/site/bad/${BAD_SHA}/unmark"`));
  assert.match(html, /<summary class="button">Deploy now<\/summary>/);
  assert.match(html, new RegExp(`<option value="${OLD}">`), 'the known-good release is a rollback target');
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
  const overview = await (await fetch(`${s.url}/`, { headers: { cookie } })).text();
  assert.match(overview, /<a href="\/repos\/site">site<\/a>/, 'the overview links to it');

  const mirrorOnly = await (await fetch(`${s.url}/repos/docs`, { headers: { cookie } })).text();
  assert.doesNotMatch(mirrorOnly, /Deploy now/, 'a repo without deploy: has no deploy buttons');
  const unknown = await fetch(`${s.url}/repos/nope`, { headers: { cookie } });
  assert.equal(unknown.status, 404);
  assert.match(await unknown.text(), /no repo named &quot;nope&quot; is configured/);
});

test('deploy now: without its CSRF token refused; without confirm a confirmation page; confirmed it queues a manual deploy and goes to the job', async (t) => {
  const s = await servedApp(t, YAML);
  const { cookie } = await login(s);
  const refused = await postForm(s, cookie, '/repos/site/deploy', { confirm: 'yes' });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /missing CSRF token/);
  assert.equal((await postForm(s, cookie, '/repos/site/deploy', { _csrf: 'guess', confirm: 'yes' })).status, 403);
  assert.equal(s.store.listJobs().length, 0);

  const csrf = await pageCsrf(s, cookie, '/repos/site');
  const ask = await postForm(s, cookie, '/repos/site/deploy', { _csrf: csrf, ref: 'release-1' });
  assert.equal(ask.status, 200);
  const page = await ask.text();
  assert.match(page, /<h1>Deploy site\?<\/h1>[\s\S]*deploys release-1/);
  assert.match(page, /<input type="hidden" name="ref" value="release-1">[\s\S]*name="confirm" value="yes"/);
  assert.equal(s.store.listJobs().length, 0, 'nothing queued before the confirmation');

  const ok = await postForm(s, cookie, '/repos/site/deploy', { _csrf: csrf, ref: 'release-1', confirm: 'yes' });
  assert.equal(ok.status, 303);
  const id = Number(/^\/jobs\/(\d+)$/.exec(ok.headers.get('location') ?? '')?.[1]);
  const job = s.store.getJob(id);
  assert.equal(job?.kind, 'deploy');
  assert.equal(job?.trigger, 'manual');
  assert.equal(job?.ref, 'release-1');
  await waitKicked(s, 'site');

  const badRef = await postForm(s, cookie, '/repos/site/deploy', { _csrf: csrf, ref: '-x', confirm: 'yes' });
  assert.equal(badRef.status, 400);
  assert.match(await badRef.text(), /is not a valid ref/);
  const noDeploy = await postForm(s, cookie, '/repos/docs/deploy', { _csrf: csrf, confirm: 'yes' });
  assert.equal(noDeploy.status, 400);
  assert.match(await noDeploy.text(), /has no deploy: section/);
  assert.equal((await postForm(s, cookie, '/repos/nope/deploy', { _csrf: csrf, confirm: 'yes' })).status, 404);
});

test('roll back: confirmed it queues a rollback job (to a chosen release or the previous good one); a made-up release is a 400', async (t) => {
  const s = await servedApp(t, YAML);
  seed(s);
  const { cookie } = await login(s);
  const csrf = await pageCsrf(s, cookie, '/repos/site');
  assert.equal((await postForm(s, cookie, '/repos/site/rollback', { confirm: 'yes' })).status, 403);
  const ask = await postForm(s, cookie, '/repos/site/rollback', { _csrf: csrf, to: '' });
  assert.match(await ask.text(), /<h1>Roll back site\?<\/h1>[\s\S]*The previous good release goes live again/);
  assert.equal(s.store.listJobs().length, 0);

  const ok = await postForm(s, cookie, '/repos/site/rollback', { _csrf: csrf, to: OLD, confirm: 'yes' });
  assert.equal(ok.status, 303);
  const job = s.store.getJob(Number(/^\/jobs\/(\d+)$/.exec(ok.headers.get('location') ?? '')?.[1]));
  assert.equal(job?.kind, 'rollback');
  assert.deepEqual(job?.params, { to: OLD });
  const bad = await postForm(s, cookie, '/repos/site/rollback', { _csrf: csrf, to: 'yesterday', confirm: 'yes' });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /is not a release id/);
});

test('unmark: the button clears the bad mark and the page says so; an unknown sha is a 404, a malformed one a 400, no CSRF a 403', async (t) => {
  const s = await servedApp(t, YAML);
  seed(s);
  const { cookie } = await login(s);
  const csrf = await pageCsrf(s, cookie, '/repos/site');
  assert.equal((await postForm(s, cookie, `/repos/site/bad/${BAD_SHA}/unmark`, {})).status, 403);
  assert.notEqual(s.store.getBad('site', BAD_SHA), null);
  const missing = await postForm(s, cookie, `/repos/site/bad/${'d'.repeat(40)}/unmark`, { _csrf: csrf });
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /is marked bad/);
  assert.equal((await postForm(s, cookie, '/repos/site/bad/zz/unmark', { _csrf: csrf })).status, 400);

  const ok = await postForm(s, cookie, `/repos/site/bad/${BAD_SHA}/unmark`, { _csrf: csrf });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), `/repos/site?unmarked=${BAD_SHA}`);
  assert.equal(s.store.getBad('site', BAD_SHA), null);
  const after = await (await fetch(`${s.url}${ok.headers.get('location')}`, { headers: { cookie } })).text();
  assert.match(after, new RegExp(`id="repo-notice">${BAD_SHA} is no longer marked bad`));
  assert.match(after, /No commit is marked bad/);
});

test('the repo page and its buttons want a session: pages go to the login, posts are 401', async (t) => {
  const s = await servedApp(t, YAML);
  const page = await fetch(`${s.url}/repos/site`, { redirect: 'manual' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login?next=%2Frepos%2Fsite');
  assert.equal((await postForm(s, '', '/repos/site/deploy', { confirm: 'yes' })).status, 401);
  assert.equal(s.store.listJobs().length, 0);
});

async function waitKicked(s: ServedApp, repo: string): Promise<void> {
  for (let i = 0; i < 100 && !s.kicked.includes(repo); i++) await new Promise((r) => setImmediate(r));
  assert.ok(s.kicked.includes(repo), 'the worker was kicked');
}

test('push to live: the overview and the repo page show the time from the delivery to the release live, for the last pushed deploy', async (t) => {
  const s = await servedApp(t, YAML);
  const { cookie } = await login(s);
  assert.match(await (await fetch(`${s.url}/`, { headers: { cookie } })).text(), /Push to live<\/dt><dd class="push-to-live"><span class="muted">no pushed deploy yet/);
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/main', after: 'e'.repeat(40), cloneUrl: 'https://github.com/acme/site.git' }), SECRET);
  const hook = await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body });
  const [id] = ((await hook.json()) as { jobs: number[] }).jobs as [number];
  const job = s.store.claim('site', process.pid);
  assert.equal(job?.id, id);
  s.store.updateJob(id, { release: '20261104T100000-eeeeeee', target_sha: 'e'.repeat(40) });
  s.store.finishJob(id, 'succeeded', 'live');
  // A later manual deploy (no delivery) does not replace the last push's time.
  const manual = s.store.enqueue({ repo: 'site', ref: null, hintSha: null, trigger: 'manual' }).id;
  s.store.claim('site', process.pid);
  s.store.updateJob(manual, { release: '20261104T100001-eeeeeee' });
  s.store.finishJob(manual, 'succeeded', 'live');

  const measured = s.store.lastPushToLive('site');
  assert.equal(measured?.job, id);
  assert.ok(measured && measured.seconds >= 0 && measured.seconds < 60);
  const overview = await (await fetch(`${s.url}/`, { headers: { cookie } })).text();
  assert.match(overview, new RegExp(`class="push-to-live">[\\d.]+ s <span class="muted small">\\(<a href="/jobs/${id}">#${id}</a>\\)`));
  const repo = await (await fetch(`${s.url}/repos/site`, { headers: { cookie } })).text();
  assert.match(repo, new RegExp(`id="push-to-live">[\\d.]+ s <span class="muted small">\\(job <a href="/jobs/${id}">`));
  assert.equal(s.store.lastPushToLive('docs'), null);
});
