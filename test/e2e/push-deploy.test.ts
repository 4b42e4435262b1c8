import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { runCli, serve } from '../helpers/cli.js';
import { githubDelivery, githubPush, post, deliverPush } from '../helpers/github.js';
import { api, waitForJob } from '../helpers/api.js';

test('end to end: a signed GitHub push through the built CLI makes a new release live, with its build output', async (t) => {
  const p = makeProject(t, { build: ['echo "built $AUTOPULL_SHA" > build-output.txt'] });
  const sha = p.pushCommit({ 'index.html': '<h1>v1</h1>' }, 'first');
  const server = await serve(p.configFile, t);

  const res = await deliverPush(server.url, p, sha);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const [jobId] = res.body.jobs as number[];
  const job = await waitForJob(server.url, p.token, jobId as number);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(job.target_sha, sha);

  const current = join(p.deployPath, 'current');
  assert.equal(readlinkSync(current), `releases/${job.release}`);
  assert.equal(readFileSync(join(current, 'index.html'), 'utf8'), '<h1>v1</h1>');
  assert.equal(readFileSync(join(current, 'build-output.txt'), 'utf8').trim(), `built ${sha}`);

  // The CLI talks to the running server.
  const status = await runCli(['status', '--json', '-c', p.configFile]);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { repos: { repo: string; current: { release: string; sha: string } }[] };
  assert.deepEqual(s.repos[0]?.current, { release: job.release, sha });

  const logs = await runCli(['logs', String(jobId), '-c', p.configFile]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /==> fetch/);
  assert.match(logs.stdout, /==> build: echo/);
  assert.match(logs.stdout, /==> switch current/);

  const again = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /queued on http/);
  assert.match(again.stdout, /skipped.*already live/);

  const bad = await post(`${server.url}/hooks/site`, githubDelivery('push', githubPush({ after: sha, cloneUrl: p.remote }), 'wrong'));
  assert.equal(bad.status, 403);
  const { jobs } = await api<{ jobs: unknown[] }>(server.url, p.token, '/api/jobs');
  assert.equal(jobs.length, 2, 'the bad delivery queued nothing');

  assert.equal(await server.stop(), 0);
});
