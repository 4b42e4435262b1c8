import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeProject } from '../helpers/project.js';

test('check reports every problem of a broken config at once and exits 1', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, 'listen: 1.2.3.4\nrepos:\n  blog:\n    url: https://github.com/a/b.git\n    secert: x\n    deploy:\n      keep: -1\n');
  const res = await runCli(['check', '-c', file]);
  assert.equal(res.code, 1);
  for (const line of ['listen: must be host:port', 'repos.blog.secert: unknown key (did you mean "secret"?)', 'repos.blog.deploy.path: is required', 'repos.blog.deploy.keep:', 'repos.blog.secret: required']) {
    assert.ok(res.stderr.includes(line), `missing "${line}" in:\n${res.stderr}`);
  }
});

test('check names a missing file and an unset variable; exit 1', async (t) => {
  const dir = tempDir(t);
  const missing = await runCli(['check', '-c', join(dir, 'nope.yml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /file not found \(create one with: autopull init/);
  const file = join(dir, 'a.yml');
  writeFileSync(file, 'repos:\n  a:\n    url: x\n    secret: ${A_SECRET_NOBODY_SET}\n    deploy: {path: /srv/a}\n');
  const unset = await runCli(['check', '-c', file], { env: { A_SECRET_NOBODY_SET: '' } });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /repos\.a\.secret: environment variable A_SECRET_NOBODY_SET is not set/);
  const set = await runCli(['check'], { env: { A_SECRET_NOBODY_SET: 's3cret', AUTOPULL_CONFIG: file } });
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /ok \(1 repo: a\)/);
});

test('init writes a starter config (mode 0600) that passes check, and never overwrites one', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  const init = await runCli(['init', file]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /secret: [0-9a-f]{40}/);
  const check = await runCli(['check', '-c', file]);
  assert.equal(check.code, 0, check.stderr);
  const again = await runCli(['init', file]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
});

test('usage mistakes exit 2', async () => {
  assert.equal((await runCli(['frobnicate'])).code, 2);
  assert.equal((await runCli(['deploy'])).code, 2);
  assert.equal((await runCli(['logs', 'abc'])).code, 2);
  assert.equal((await runCli(['--help'])).code, 0);
  assert.equal((await runCli(['help'])).code, 0);
  assert.equal((await runCli(['help', 'serve'])).code, 0);
  // No command at all is a usage mistake too: the usage goes to stderr, and a script that
  // ran `autopull` with an empty variable learns it did nothing.
  const bare = await runCli([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: autopull/);
});

test('deploy, status and logs work in-process when no server runs', async (t) => {
  const p = makeProject(t, { build: ['echo hello from the build'] });
  const sha = p.pushCommit({ v: '1' });
  const deploy = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(deploy.code, 0, deploy.stderr + deploy.stdout);
  assert.match(deploy.stdout, /no server running/);
  assert.match(deploy.stdout, /hello from the build/);
  assert.match(deploy.stdout, /#1 succeeded/);
  assert.ok(existsSync(join(p.deployPath, 'current', 'v')));
  const status = await runCli(['status', 'site', '-c', p.configFile]);
  assert.equal(status.code, 0);
  assert.match(status.stdout, new RegExp(`current: \\d{8}T\\d{6}-${sha.slice(0, 7)} \\(${sha}\\)`));
  const logs = await runCli(['logs', '1', '-c', p.configFile]);
  assert.match(logs.stdout, /==> switch current/);
  const unknown = await runCli(['deploy', 'nope', '-c', p.configFile]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no repo named "nope"/);
  const failing = await runCli(['deploy', 'site', '--ref', 'no-such-branch', '-c', p.configFile]);
  assert.equal(failing.code, 1, 'a failed deploy exits 1');
});
