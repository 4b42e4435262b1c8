import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, spawnCli } from '../helpers/cli.js';
import { servesVersion } from '../helpers/app.js';
import { steadyLoad } from '../helpers/load.js';
import { api } from '../helpers/api.js';
import { deployRepo, twoApps } from '../helpers/apps.js';
import type { AppStatus } from '../../src/deploy/app-status.js';
import { sample, scrape } from '../helpers/metrics.js';

const up = (a: AppStatus) => a.state === 'running' && a.pid !== null;

test('restart behind the proxy under steady load fails no request, runs a new pid of the same release and retires the old; restart on one port goes through the gate too', async (t) => {
  const { p, proxyPort, appPort, cli, appWhen } = await twoApps(t);
  const s = await serve(p.configFile, t);
  p.pushCommit({ version: '1' });
  for (const repo of ['site', 'blog']) assert.equal((await deployRepo(s.url, p, repo)).state, 'succeeded', repo);
  const site = await appWhen('site', up, 'running');
  const blog = await appWhen('blog', up, 'running');

  const follow = spawnCli(['logs', '--app', 'site', '-c', p.configFile], t);
  await follow.waitFor(new RegExp(`app version 1 listening on ${site.port} `));
  const load = steadyLoad(`http://127.0.0.1:${proxyPort}/`);
  const r = await cli(['restart', 'site']);
  const seen = await load.stop();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /job \d+ queued/);
  assert.match(r.stdout, /wait healthy: GET http:\/\/127\.0\.0\.1:\d+\/healthz \(no user traffic yet\)/);
  assert.match(r.stdout, new RegExp(`route 127\\.0\\.0\\.1:${proxyPort} -> releases/${site.release}`));
  assert.match(r.stdout, new RegExp(`retire releases/${site.release}`));
  assert.match(r.stdout, /site: running: /);
  assert.ok(seen.requests > 0);
  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);
  const after = await appWhen('site', (a) => up(a) && a.instances.length === 1, 'the old instance retired');
  assert.notEqual(after.pid, site.pid);
  assert.equal(after.release, site.release);
  assert.equal(after.restarts, 0);
  const siteRel = await api<{ releases: { id: string; state: string }[]; bad: unknown[] }>(s.url, p.token, '/api/repos/site/releases');
  assert.deepEqual([siteRel.releases.find((x) => x.id === site.release)?.state, siteRel.bad], ['live', []]);
  // `logs --app` follows: the new instance's output, then, after a deploy, the new release's.
  await follow.waitFor(new RegExp(`app version 1 listening on ${after.port} `));
  p.pushCommit({ version: '2' });
  assert.equal((await deployRepo(s.url, p, 'site')).state, 'succeeded');
  await follow.waitFor(/--- releases\/\S+ is live now: its output follows ---\napp version 2 listening/);

  const r2 = await cli(['restart', 'blog']);
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.match(r2.stdout, new RegExp(`stop the app \\(releases/${blog.release}\\)`));
  assert.match(r2.stdout, /wait healthy: GET/);
  const blog2 = await appWhen('blog', up, 'running');
  assert.notEqual(blog2.pid, blog.pid);
  assert.equal(blog2.release, blog.release);
  await servesVersion(appPort, /^version 1 /);

  // A restart is no verdict on the release: it stays live, nothing is marked bad.
  const rel = await api<{ releases: { id: string; state: string }[]; bad: unknown[] }>(s.url, p.token, '/api/repos/blog/releases');
  assert.deepEqual([rel.releases.find((x) => x.id === blog.release)?.state, rel.bad], ['live', []]);
  const m = await scrape(s.url);
  assert.equal(sample(m, 'autopull_jobs_total', { repo: 'site', kind: 'restart', outcome: 'succeeded' }), 1);
  assert.equal(sample(m, 'autopull_jobs_total', { repo: 'blog', kind: 'restart', outcome: 'succeeded' }), 1);
});
