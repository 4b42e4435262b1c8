import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';
import { receiver } from '../helpers/receiver.js';
import { Store } from '../../src/store/store.js';

test('deploy exits 0 when the commit is live (deployed now, or already), and the in-process run sends its notification', async (t) => {
  const hook = await receiver(t);
  const p = makeProject(t, { repoYaml: `    notify:\n      - { url: "${hook.url}", on: [success] }` });
  const sha = p.pushCommit({ v: '1' });
  const first = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(readlinkSync(join(p.deployPath, 'current')), new RegExp(`-${sha.slice(0, 7)}$`));
  assert.equal(hook.requests.length, 1, 'the notification went out before the command ended');
  const sent = JSON.parse(hook.requests[0]?.body ?? '{}') as { event: string; sha: string; trigger: string };
  assert.deepEqual([sent.event, sent.sha, sent.trigger], ['success', sha, 'manual']);

  const again = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /skipped .*is already live/);
  assert.equal(again.stderr, '');
});

test('deploy of a commit marked bad is skipped and exits 1 saying why; the old release stays live', async (t) => {
  const p = makeProject(t);
  const good = p.pushCommit({ v: '1' });
  assert.equal((await runCli(['deploy', 'site', '-c', p.configFile])).code, 0);
  const bad = p.pushCommit({ v: '2' });
  const store = new Store(join(p.dataDir, 'autopull.db'));
  store.markBad('site', bad, 'failed its health check', null);
  store.close();
  const res = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout, /skipped/);
  assert.match(res.stderr, new RegExp(`^autopull: not deployed: ${bad.slice(0, 7)} is marked bad \\(failed its health check\\); push a newer commit, or run: autopull deploy site --ref ${bad} --force\\n$`));
  assert.match(readlinkSync(join(p.deployPath, 'current')), new RegExp(`-${good.slice(0, 7)}$`));
  const forced = await runCli(['deploy', 'site', '--ref', bad, '--force', '-c', p.configFile]);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
});

test('a failed deploy exits 1 naming the job, its failure and what is still live', async (t) => {
  const p = makeProject(t, { build: ['grep -qx ok state'] });
  p.pushCommit({ state: 'ok' });
  assert.equal((await runCli(['deploy', 'site', '-c', p.configFile])).code, 0);
  const live = readlinkSync(join(p.deployPath, 'current')).replace(/^releases\//, '');
  p.pushCommit({ state: 'bad' });
  const res = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(res.code, 1);
  assert.equal(res.stderr, `autopull: not deployed: job 2 failed (build_failed); release ${live} is live\n`);
});
