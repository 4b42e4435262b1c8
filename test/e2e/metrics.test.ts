import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush, githubDelivery, githubPush, post } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';
import { APP_START, freePort, servesVersion, waitUntil } from '../helpers/app.js';
import { sample, scrape } from '../helpers/metrics.js';

test('GET /metrics (no token) after real deliveries and deploys: deliveries, jobs, steps, push to live, mirror failures, the live release', async (t) => {
  const p = makeProject(t, {
    build: ['if [ -f broken ]; then exit 1; fi'],
    // Port 9 refuses: the mirror push fails fast, the deploy goes on.
    repoYaml: '    mirror:\n      - url: "http://127.0.0.1:9/m.git"\n',
  });
  const server = await serve(p.configFile, t);
  const before = await scrape(server.url);
  assert.equal(sample(before, 'autopull_queue_depth', { repo: 'site' }), 0);
  assert.equal(sample(before, 'autopull_live_release_age_seconds', { repo: 'site' }), undefined, 'nothing live yet');

  const v1 = p.pushCommit({ v: '1' });
  const ok = await deliverPush(server.url, p, v1);
  assert.equal(ok.status, 202);
  assert.equal((await waitForJob(server.url, p.token, ok.job)).state, 'succeeded');
  const forged = await post(`${server.url}/hooks/site`, githubDelivery('push', githubPush({ after: v1, cloneUrl: p.remote }), 'not-the-secret'));
  assert.equal(forged.status, 403);
  const v2 = p.pushCommit({ broken: 'yes' });
  const failing = await deliverPush(server.url, p, v2);
  assert.equal((await waitForJob(server.url, p.token, failing.job)).state, 'failed');

  const m = await scrape(server.url);
  assert.equal(sample(m, 'autopull_deliveries_total', { sender: 'github', code: '202' }), 2);
  assert.equal(sample(m, 'autopull_deliveries_total', { sender: 'github', code: '403' }), 1);
  assert.equal(sample(m, 'autopull_jobs_total', { repo: 'site', kind: 'deploy', outcome: 'succeeded' }), 1);
  assert.equal(sample(m, 'autopull_jobs_total', { repo: 'site', kind: 'deploy', outcome: 'failed' }), 1);
  assert.equal(sample(m, 'autopull_job_duration_seconds_count', { repo: 'site', kind: 'deploy', outcome: 'succeeded' }), 1);
  for (const step of ['fetch', 'mirror', 'materialise', 'build', 'switch', 'prune']) {
    assert.equal(sample(m, 'autopull_step_duration_seconds_count', { repo: 'site', step, outcome: 'succeeded' }), step === 'fetch' || step === 'mirror' || step === 'materialise' ? 2 : 1, step);
  }
  assert.equal(sample(m, 'autopull_step_duration_seconds_count', { repo: 'site', step: 'build', outcome: 'failed' }), 1, 'the failing build step');
  assert.equal(sample(m, 'autopull_push_to_live_seconds_count', { repo: 'site' }), 1, 'only the push that went live');
  assert.ok((sample(m, 'autopull_push_to_live_seconds_sum', { repo: 'site' }) ?? 0) > 0);
  assert.equal(sample(m, 'autopull_mirror_failures_total', { repo: 'site', state: 'failed' }), 2, 'one failed push to the target per job');
  assert.ok((sample(m, 'autopull_live_release_age_seconds', { repo: 'site' }) ?? -1) >= 0);
  assert.equal(sample(m, 'autopull_queue_depth', { repo: 'site' }), 0);
  assert.equal(await server.stop(), 0);
});

test('GET /metrics counts the restarts of a supervised app that keeps ending', async (t) => {
  const port = await freePort();
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 300ms\n      stop_timeout: 2s\n      probation: 0s\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n`,
  });
  // The fixture app exits 1 this long after it listens: after min_uptime, so not a crash.
  const v1 = p.pushCommit({ version: '1', 'crash-after': '600' });
  const server = await serve(p.configFile, t);
  const res = await deliverPush(server.url, p, v1);
  assert.equal((await waitForJob(server.url, p.token, res.job)).state, 'succeeded');
  await servesVersion(port, /^version 1 /);
  const restarts = await waitUntil('a restart in /metrics', async () => sample(await scrape(server.url), 'autopull_app_restarts_total', { repo: 'site' }) ?? 0, 20_000);
  assert.ok(restarts >= 1);
  assert.equal(sample(await scrape(server.url), 'autopull_app_crashes_total', { repo: 'site' }) ?? 0, 0, 'it ran past min_uptime each time');
  assert.equal(await server.stop(), 0);
});
