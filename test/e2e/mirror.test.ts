import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bareRemote, commit, git, push, workRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli, serve } from '../helpers/cli.js';
import { githubDelivery, githubPush, post } from '../helpers/github.js';
import { api, waitForJob } from '../helpers/api.js';

function project(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const remote = bareRemote(join(dir, 'source.git'));
  const work = workRepo(join(dir, 'work'), remote);
  bareRemote(join(dir, 'plain.git'));
  bareRemote(join(dir, 'targets', 'acme', 'fizz.git'));
  bareRemote(join(dir, 'targets', 'evil', 'fizz.git'));
  const secret = randomBytes(16).toString('hex');
  const token = randomBytes(16).toString('hex');
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(
    configFile,
    `listen: 127.0.0.1:0
data_dir: ./data
auth_token: ${token}
repos:
  src:
    url: ./source.git
    secret: ${secret}
    mirror:
      - url: ./plain.git
      - url: ${join(dir, 'targets')}/{owner}/{name}.git
        allow_targets: ["${join(dir, 'targets')}/acme/*"]
`,
  );
  return { dir, remote, work, secret, token, configFile };
}

test('end to end: a push mirrors every branch; ?owner=&name= fills an allowed target and a disallowed one is refused with 403', async (t) => {
  const p = project(t);
  const sha = commit(p.work, { 'a.txt': '1' });
  push(p.work);
  const server = await serve(p.configFile, t);
  const delivery = (ref = 'refs/heads/main') => githubDelivery('push', githubPush({ ref, after: sha, cloneUrl: p.remote }), p.secret);

  // A branch that no deploy tracks still mirrors (to every target that needs no override).
  git(p.work, 'push', '-q', 'origin', 'main:refs/heads/topic');
  const plain = await post(`${server.url}/hooks/src`, delivery('refs/heads/topic'));
  assert.equal(plain.status, 202, JSON.stringify(plain.body));
  const job = await waitForJob(server.url, p.token, (plain.body.jobs as number[])[0] as number);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(git(join(p.dir, 'plain.git'), 'rev-parse', 'refs/heads/topic'), sha);

  const allowed = await post(`${server.url}/hooks/src?user=acme&project=fizz`, delivery());
  assert.equal(allowed.status, 202, JSON.stringify(allowed.body));
  const second = await waitForJob(server.url, p.token, (allowed.body.jobs as number[])[0] as number);
  assert.equal(second.state, 'succeeded');
  assert.equal(git(join(p.dir, 'targets', 'acme', 'fizz.git'), 'rev-parse', 'refs/heads/main'), sha);

  const refused = await post(`${server.url}/hooks/src?owner=evil&name=fizz`, delivery());
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'forbidden');
  assert.match(String(refused.body.message), /evil\/fizz\.git matches none of allow_targets/);
  const unsafe = await post(`${server.url}/hooks/src?owner=acme&name=..`, delivery());
  assert.equal(unsafe.status, 403);
  assert.match(String(unsafe.body.message), /no \/, \.\./);
  assert.throws(() => git(join(p.dir, 'targets', 'evil', 'fizz.git'), 'rev-parse', '--verify', 'refs/heads/main'));

  // autopull mirror through the running server, and mirror health in status.
  commit(p.work, { 'a.txt': '2' });
  push(p.work);
  const run = await runCli(['mirror', 'src', '-c', p.configFile]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /queued on http/);
  assert.match(run.stdout, /mirror .*plain\.git: 1 updated/);
  assert.match(run.stdout, /mirror skipped: .*needs \?owner=&name=/);
  const status = await runCli(['status', '-c', p.configFile]);
  assert.match(status.stdout, /mirror: {2}ok .*plain\.git/);
  assert.match(status.stdout, /mirror: {2}ok .*acme\/fizz\.git/);
  const { repos } = await api<{ repos: { mirrors: { target: string; state: string }[] }[] }>(server.url, p.token, '/api/repos');
  assert.deepEqual(repos[0]?.mirrors.map((m) => m.state), ['ok', 'ok']);
  assert.equal(await server.stop(), 0);
});

test('autopull mirror works in-process without a server and exits 1 when a target fails', async (t) => {
  const p = project(t);
  commit(p.work, { 'a.txt': '1' });
  push(p.work);
  const ok = await runCli(['mirror', 'src', '-c', p.configFile]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /no server running: running it in this process/);
  git(join(p.dir, 'plain.git'), 'rev-parse', 'refs/heads/main');
  writeFileSync(p.configFile, `data_dir: ./data\nrepos:\n  src:\n    url: ./source.git\n    insecure: true\n    mirror:\n      - url: ./gone.git\n`);
  const bad = await runCli(['mirror', 'src', '-c', p.configFile]);
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stdout, /gone\.git failed: .*does not appear to be a git repository/);
  const status = await runCli(['status', 'src', '--json', '-c', p.configFile]);
  const s = JSON.parse(status.stdout) as { repos: { mirrors: { state: string; failures: number; next_retry_at: string }[] }[] };
  assert.equal(s.repos[0]?.mirrors[0]?.state, 'failed');
  assert.ok(s.repos[0]?.mirrors[0]?.next_retry_at);
});
