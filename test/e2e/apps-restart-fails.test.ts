import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../helpers/cli.js';
import { steadyLoad } from '../helpers/load.js';
import { api } from '../helpers/api.js';
import { deployRepo, twoApps } from '../helpers/apps.js';
import type { AppStatus } from '../../src/deploy/app-status.js';

const up = (a: AppStatus) => a.state === 'running' && a.pid !== null;

test('a restart whose new process never gets healthy fails, and is no verdict: behind the proxy the old instance serves on (no failed request), the release stays live, nothing is marked bad', async (t) => {
  const { p, proxyPort, cli, appWhen } = await twoApps(t);
  const s = await serve(p.configFile, t);
  p.pushCommit({ version: '1' });
  for (const repo of ['site', 'blog']) assert.equal((await deployRepo(s.url, p, repo)).state, 'succeeded', repo);
  const site = await appWhen('site', up, 'running');
  const blog = await appWhen('blog', up, 'running');
  // Read by the fixture app when it starts (crash-after) and at each /healthz: only a new process fails.
  const broken = (repo: string, release: string | null) => join(p.dir, repo === 'site' ? 'srv' : 'srv-blog', 'releases', release ?? '?');
  for (const [repo, a] of [['site', site], ['blog', blog]] as const) {
    writeFileSync(join(broken(repo, a.release), 'crash-after'), '300');
    writeFileSync(join(broken(repo, a.release), 'health'), 'bad');
  }
  const load = steadyLoad(`http://127.0.0.1:${proxyPort}/`);
  const r = await cli(['restart', 'site']);
  const seen = await load.stop();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /the app exited before it was healthy/);
  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);
  const still = await appWhen('site', (a) => a.instances.length === 1, 'the new instance gone');
  assert.deepEqual([still.pid, still.state], [site.pid, 'running'], 'the old instance serves on');
  const rb = await cli(['restart', 'blog']);
  assert.equal(rb.code, 1);
  assert.match(rb.stdout, /the app stays under its supervisor/);
  for (const repo of ['site', 'blog']) {
    const rel = await api<{ releases: { id: string; state: string }[]; bad: unknown[] }>(s.url, p.token, `/api/repos/${repo}/releases`);
    assert.deepEqual([rel.releases.map((x) => x.state), rel.bad], [['live'], []], repo);
    const jobs = await api<{ jobs: { kind: string; state: string; failure: string | null }[] }>(s.url, p.token, `/api/jobs?repo=${repo}&limit=1`);
    assert.deepEqual(jobs.jobs.map((j) => [j.kind, j.state, j.failure]), [['restart', 'failed', 'unhealthy']], repo);
  }
  // Fixed: a restart brings the port app back.
  rmSync(join(broken('blog', blog.release), 'crash-after'));
  rmSync(join(broken('blog', blog.release), 'health'));
  assert.equal((await cli(['restart', 'blog'])).code, 0);
  await appWhen('blog', up, 'running again');
});
