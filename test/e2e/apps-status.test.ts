import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../helpers/cli.js';
import { servesVersion } from '../helpers/app.js';
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
