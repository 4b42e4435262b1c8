import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, spawnCli } from '../helpers/cli.js';
import { servesVersion } from '../helpers/app.js';
import { steadyLoad } from '../helpers/load.js';
import { api } from '../helpers/api.js';
import { deployRepo, twoApps } from '../helpers/apps.js';
import { sample, scrape } from '../helpers/metrics.js';
import { stopRuntime } from '../helpers/runtime.js';
import type { AppStatus } from '../../src/deploy/app-status.js';

const up = (a: AppStatus) => a.state === 'running' && a.pid !== null;

test('apps and status show both kinds of supervised app with state, pid, port and restarts; restarts after a kill are counted; logs --app prints the output; with no server, apps reads the pid file and the runtime without starting one', async (t) => {
  const { p, proxyPort, appPort, cli, apps, appWhen } = await twoApps(t);
  const s = await serve(p.configFile, t);
  p.pushCommit({ version: '1' });
  for (const repo of ['site', 'blog']) assert.equal((await deployRepo(s.url, p, repo)).state, 'succeeded', repo);
  await servesVersion(proxyPort, /^version 1 /);
  await servesVersion(appPort, /^version 1 /);

  const site = await appWhen('site', up, 'running');
  assert.deepEqual([site.mode, site.listen, site.restarts, site.source], ['proxy', `127.0.0.1:${proxyPort}`, 0, 'runtime']);
  assert.ok(site.port !== null && site.port !== proxyPort, 'each release runs on a port of its own');
  assert.deepEqual(site.instances.map((i) => [i.live, i.routed, i.pid]), [[true, true, site.pid]]);
  const blog = await appWhen('blog', up, 'running');
  assert.deepEqual([blog.mode, blog.port, blog.restarts, blog.source], ['port', appPort, 0, 'server']);
  assert.ok((blog.uptime_seconds ?? -1) >= 0);
  assert.deepEqual((await apps()).map((a) => a.repo), ['site', 'blog'], 'docs has no supervised app');

  const text = await cli(['apps']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`\\*\\s+site\\s+proxy\\s+127\\.0\\.0\\.1:${proxyPort}\\s+running\\s+\\S+\\s+${site.pid}\\s`));
  assert.match(text.stdout, new RegExp(`\\*\\s+blog\\s+port\\s+:${appPort}\\s+running\\s+\\S+\\s+${blog.pid}\\s+${appPort}\\s`));
  const status = await cli(['status', '--json']);
  const repos = (JSON.parse(status.stdout) as { repos: { repo: string; app: AppStatus | null }[] }).repos;
  assert.deepEqual(repos.map((r) => [r.repo, r.app?.state ?? null, r.app?.pid ?? null]), [['site', 'running', site.pid], ['blog', 'running', blog.pid], ['docs', null, null]]);
  assert.match((await cli(['status', 'blog'])).stdout, new RegExp(`app: +running: releases/\\S+, pid ${blog.pid}, port ${appPort}, up \\S+, 0 restarts`));

  const siteLog = await cli(['logs', '--app', 'site', '--no-follow']);
  assert.equal(siteLog.code, 0, siteLog.stderr);
  assert.match(siteLog.stdout, new RegExp(`app version 1 listening on ${site.port} \\(pid ${site.pid}\\)`));
  assert.match((await cli(['logs', '--app', 'blog', '--no-follow'])).stdout, new RegExp(`app version 1 listening on ${appPort} \\(pid ${blog.pid}\\)`));
  // Control characters are escaped; a long log is read from its last 64 KiB, not whole.
  const blogLog = join(p.dataDir, 'logs', 'blog', `${blog.release}.log`);
  appendFileSync(blogLog, `\x1b[2Jcleared\n${Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n')}\n`);
  const tail = await cli(['logs', '--app', 'blog', '--no-follow']);
  assert.ok(!tail.stdout.includes('\x1b'), 'a raw ESC reached the terminal');
  assert.match(tail.stdout, /^line 19999$/m);
  assert.doesNotMatch(tail.stdout, /^line 0$/m);
  assert.ok(tail.stdout.length <= 64 * 1024, `${tail.stdout.length} characters printed`);
  writeFileSync(blogLog, '\x1b[2Jcleared\n');
  assert.equal((await cli(['logs', '--app', 'blog', '--no-follow'])).stdout, '\\x1b[2Jcleared\n');

  // An app killed after min_uptime is no crash: started again, counted as a restart.
  process.kill(site.pid!, 'SIGKILL');
  process.kill(blog.pid!, 'SIGKILL');
  const site2 = await appWhen('site', (a) => up(a) && a.pid !== site.pid, 'started again');
  const blog2 = await appWhen('blog', (a) => up(a) && a.pid !== blog.pid, 'started again');
  assert.deepEqual([site2.restarts, blog2.restarts, site2.release, blog2.release], [1, 1, site.release, blog.release]);
  const m = await scrape(s.url);
  for (const repo of ['site', 'blog']) {
    assert.equal(sample(m, 'autopull_app_restarts_total', { repo }), 1, repo);
    assert.equal(sample(m, 'autopull_app_crashes_total', { repo }) ?? 0, 0, repo);
  }

  assert.equal(await s.stop(), 0);
  // No server: the runtime serves on and answers; blog's app stopped with serve.
  const left = await apps();
  assert.deepEqual(left.map((a) => [a.repo, a.state, a.source]), [['site', 'running', 'runtime'], ['blog', 'stopped', 'pid_file']]);
  assert.equal(left[0]?.pid, site2.pid);
  assert.match((await cli(['logs', '--app', 'site', '--no-follow'])).stdout, /app version 1 listening/);
  await stopRuntime(p.dataDir);
  const none = await apps();
  assert.equal(none[0]?.state, 'stopped');
  assert.match(none[0]?.note ?? '', /runtime is not running/);
  assert.equal(existsSync(join(p.dataDir, 'runtime.sock')), false, 'asking for the state started a runtime');
});

test('bad input: an unknown repo, a repo without deploy.start, logs with neither or both of JOB and --app, restart with no server', async (t) => {
  const { cli } = await twoApps(t);
  const unknown = await cli(['restart', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no repo named "nope" is configured/);
  const plain = await cli(['restart', 'docs']);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /repo docs has no supervised app: its deploy: section has no start:/);
  const noServer = await cli(['restart', 'blog']);
  assert.equal(noServer.code, 1);
  assert.match(noServer.stderr, /no server is running: start autopull serve/);
  for (const args of [['logs', '--app', 'docs'], ['apps', 'docs'], ['logs', '--app', 'nope']]) {
    const r = await cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /no supervised app|no repo named/, args.join(' '));
  }
  const nothingYet = await cli(['logs', '--app', 'blog']);
  assert.equal(nothingYet.code, 1);
  assert.match(nothingYet.stderr, /the app of blog has no output yet/);
  for (const args of [['logs'], ['logs', '3', '--app', 'blog']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /give a JOB/, args.join(' '));
  }
});

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

test('a crashed app (max_restarts reached) is shown crashed, never live, in both modes; logs --app says so; restart brings it back', async (t) => {
  // A kill within min_uptime is a crash; max_restarts 0: the first one leaves the app down.
  const { p, cli, appWhen } = await twoApps(t, { minUptime: '20s', extra: '      max_restarts: 0\n' });
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
