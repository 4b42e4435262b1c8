import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookApp } from '../../test/helpers/hook-app.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';

// A delivery id counts as seen for a repo only once that repo authenticated the delivery:
// a forged delivery that an insecure repo accepts must not burn the id for a secured one.
const S = 'dup-scope-secret-1';
const push = () => githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' });

test('POST /hooks: a forged delivery accepted by an insecure repo does not make the genuine one a duplicate for the secured repo', async (t) => {
  const f = await hookApp(t, `repos:
  staging: { url: 'https://github.com/acme/blog.git', insecure: true, deploy: { path: ./srv1 } }
  prod: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv2 } }
`);
  const forged = await f.send('/hooks', githubDelivery('push', push(), 'forged', { id: 'same-id' }));
  assert.equal(forged.status, 202, JSON.stringify(forged.body));
  assert.deepEqual(f.store.listJobs().map((j) => j.repo), ['staging']);
  const genuine = await f.send('/hooks', githubDelivery('push', push(), S, { id: 'same-id' }));
  assert.equal(genuine.status, 202, JSON.stringify(genuine.body));
  const jobs = (genuine.body.jobs as number[]).map((id) => f.store.getJob(id)?.repo);
  assert.deepEqual(jobs, ['prod'], 'the secured repo deploys; the insecure one already had this id');
  const again = await f.send('/hooks', githubDelivery('push', push(), S, { id: 'same-id' }));
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 'duplicate');
});

test('POST /hooks/REPO: an id seen by repo web-prod is not a duplicate for repo web_prod', async (t) => {
  const f = await hookApp(t, `repos:
  web-prod: { url: 'https://github.com/acme/blog.git', insecure: true, deploy: { path: ./srv1 } }
  web_prod: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv2 } }
`);
  assert.equal((await f.send('/hooks/web-prod', githubDelivery('push', push(), 'forged', { id: 'id-1' }))).status, 202);
  const genuine = await f.send('/hooks/web_prod', githubDelivery('push', push(), S, { id: 'id-1' }));
  assert.equal(genuine.status, 202, JSON.stringify(genuine.body));
  assert.equal((await f.send('/hooks/web_prod', githubDelivery('push', push(), S, { id: 'id-1' }))).body.status, 'duplicate');
});
