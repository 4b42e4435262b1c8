import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../helpers/cli.js';
import { deployRepo, twoApps } from '../helpers/apps.js';
import { sample, scrape } from '../helpers/metrics.js';
import type { AppStatus } from '../../src/deploy/app-status.js';

test('a crashed app (max_restarts reached) is shown crashed, never live, in both modes; logs --app says so; restart brings it back', async (t) => {
  // A kill within min_uptime is a crash; max_restarts 0: the first one leaves the app down.
  const { p, cli, appWhen } = await twoApps(t, { minUptime: '60s', extra: '      max_restarts: 0\n' });
  const s = await serve(p.configFile, t);
  p.pushCommit({ version: '1' });
  for (const repo of ['site', 'blog']) assert.equal((await deployRepo(s.url, p, repo)).state, 'succeeded', repo);
  const before = new Map<string, AppStatus>();
  for (const repo of ['site', 'blog']) {
    const a = await appWhen(repo, (x) => x.state === 'starting' && x.pid !== null, 'starting (up less than min_uptime)');
    before.set(repo, a);
    process.kill(a.pid!, 'SIGKILL');
  }
  for (const repo of ['site', 'blog']) {
    const a = await appWhen(repo, (x) => x.state === 'crashed', 'crashed');
    assert.equal(a.pid, null);
    assert.deepEqual(a.instances.map((i) => [i.state, i.live]), [['crashed', false]], repo);
  }
  const text = await cli(['apps']);
  assert.match(text.stdout, /^\s+site\s+proxy\s+\S+\s+crashed\s/m, text.stdout);
  assert.match(text.stdout, /^\s+blog\s+port\s+\S+\s+crashed\s/m, text.stdout);
  assert.doesNotMatch(text.stdout, /^\*/m, 'a crashed app is never marked as serving');
  const status = JSON.parse((await cli(['status', '--json'])).stdout) as { repos: { repo: string; app: AppStatus | null }[] };
  assert.deepEqual(status.repos.map((r) => r.app?.state ?? null), ['crashed', 'crashed', null]);
  // Follows by default, but a crashed app prints what it has and ends with exit 1.
  const logs = await cli(['logs', '--app', 'site']);
  assert.equal(logs.code, 1);
  assert.match(logs.stdout, /app version 1 listening/);
  assert.match(logs.stderr, /the app of site has crashed \(max_restarts reached\)/);
  const m = await scrape(s.url);
  assert.equal(sample(m, 'autopull_app_crashes_total', { repo: 'site' }), 1);
  assert.equal(sample(m, 'autopull_app_crashes_total', { repo: 'blog' }), 1);

  for (const repo of ['site', 'blog']) {
    const r = await cli(['restart', repo]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const a = await appWhen(repo, (x) => x.pid !== null && x.instances.length === 1, 'back up');
    assert.ok(a.state === 'starting' || a.state === 'running', a.state);
    assert.equal(a.release, before.get(repo)?.release);
    assert.notEqual(a.pid, before.get(repo)?.pid);
  }
});
