import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { bareRemote } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

/** A port held by a listener on 127.0.0.1 until the test ends. */
async function busyPort(t: { after(fn: () => unknown): void }): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

function config(dir: string, body: string): string {
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, `data_dir: ./data\n${body}`);
  return file;
}

test('check --deep passes a config whose remotes answer, paths can be made, shared files exist and ports are free', async (t) => {
  const dir = tempDir(t);
  bareRemote(join(dir, 'remote.git'));
  bareRemote(join(dir, 'mirror.git'));
  mkdirSync(join(dir, 'srv', 'shared'), { recursive: true });
  writeFileSync(join(dir, 'srv', 'shared', '.env'), 'A=1\n');
  const file = config(dir, `listen: 127.0.0.1:0
repos:
  site:
    url: ./remote.git
    insecure: true
    deploy: { path: ./srv, shared: [.env, uploads/] }
    mirror: [{ url: ./mirror.git }]
  other:
    url: ./remote.git
    insecure: true
    deploy: { path: ./not/yet/made }
`);
  const plain = await runCli(['check', '-c', file]);
  assert.equal(plain.code, 0, plain.stderr);
  const deep = await runCli(['check', '--deep', '-c', file]);
  assert.equal(deep.code, 0, deep.stderr);
  assert.match(deep.stdout, /ok \(2 repos: site, other\); remotes answer, paths are writable, shared files exist, ports are free/);
});

test('check --deep prints every problem of the machine with its path and exits 1', async (t) => {
  const dir = tempDir(t);
  bareRemote(join(dir, 'remote.git'));
  writeFileSync(join(dir, 'blocker'), 'a file where a folder should be\n');
  const port = await busyPort(t);
  const file = config(dir, `listen: 127.0.0.1:${port}
repos:
  site:
    url: ./no-such-remote.git
    insecure: true
    deploy: { path: ./blocker/srv, shared: [.env] }
    mirror: [{ url: ./no-such-mirror.git }]
  app:
    url: ./remote.git
    insecure: true
    deploy: { path: ./app, shared: [.env], start: node server.js, port: 40123 }
  twin:
    url: ./remote.git
    insecure: true
    deploy: { path: ./twin, start: node server.js, port: 40123 }
`);
  const res = await runCli(['check', '--deep', '-c', file]);
  assert.equal(res.code, 1, res.stdout + res.stderr);
  const expected = [
    `repos.site.url: ${join(dir, 'no-such-remote.git')} does not answer: `,
    `repos.site.mirror[0].url: ${join(dir, 'no-such-mirror.git')} does not answer: `,
    `repos.site.deploy.path: ${join(dir, 'blocker', 'srv')} cannot be created: ${join(dir, 'blocker')} is a file, not a folder`,
    `repos.site.deploy.shared[0]: ${join(dir, 'blocker', 'srv', 'shared', '.env')} does not exist: create it (it is linked into every release as .env)`,
    `repos.app.deploy.shared[0]: ${join(dir, 'app', 'shared', '.env')} does not exist`,
    `listen: port ${port} is in use on 127.0.0.1: stop what listens there, or pick another port`,
    'repos.twin.deploy.port: port 40123 is also repos.app.deploy.port: each needs its own',
  ];
  for (const e of expected) assert.ok(res.stderr.includes(`  - ${e}`), `missing "${e}" in:\n${res.stderr}`);
  assert.match(res.stderr, /7 problems:/);
});

test('check --deep names a deploy path this user cannot write', async (t) => {
  const dir = tempDir(t);
  bareRemote(join(dir, 'remote.git'));
  mkdirSync(join(dir, 'locked'));
  const file = config(dir, `listen: 127.0.0.1:0
repos:
  site:
    url: ./remote.git
    insecure: true
    deploy: { path: ./locked/srv }
`);
  chmodSync(join(dir, 'locked'), 0o555);
  // root may write anywhere: the check then runs as nobody, who can read the config.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
  }
  const res = await runCli(['check', '--deep', '-c', file], asRoot ? { uid: 65534 } : {});
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stderr, new RegExp(`  - repos\\.site\\.deploy\\.path: ${join(dir, 'locked', 'srv')} cannot be created: ${join(dir, 'locked')} is not writable by [^ ]+ \\(give it to this user: sudo chown `));
});

test('check --deep: a data_dir too long for the proxy runtime\'s socket is a problem of data_dir, with the limit', async (t) => {
  const dir = tempDir(t);
  bareRemote(join(dir, 'remote.git'));
  const long = join(dir, 'd'.repeat(Math.max(1, 110 - dir.length)));
  const file = join(dir, 'autopull.yml');
  writeFileSync(
    file,
    `data_dir: ${long}\nlisten: 127.0.0.1:0\nrepos:\n  site:\n    url: ./remote.git\n    insecure: true\n    deploy: { path: ./srv, start: node server.js, proxy: "127.0.0.1:0" }\n`,
  );
  const deep = await runCli(['check', '--deep', '-c', file]);
  assert.equal(deep.code, 1, deep.stdout);
  assert.match(deep.stderr + deep.stdout, /data_dir: data_dir .* is too long for the runtime's control socket: .* bytes, the system takes 10[37]/);
});
