import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { silentLogger } from '../lib/log.js';
import { rig } from '../../test/helpers/rig.js';

test('a deploy materialises a clean tree, builds it with AUTOPULL_* set, and switches current with a relative link', async (t) => {
  const r = rig(t, { build: ['echo "$AUTOPULL_REPO $AUTOPULL_SHA $AUTOPULL_REF" > built.txt', 'echo building; echo warn >&2'] });
  const sha = r.p.pushCommit({ 'index.html': 'v1', 'sub/dir/file.txt': 'x' });
  const job = await r.deploy();
  assert.equal(job.state, 'succeeded', r.log(job));
  assert.equal(job.target_sha, sha);
  const link = r.current();
  assert.match(link ?? '', /^releases\/\d{8}T\d{6}-[0-9a-f]{7}$/);
  assert.ok(lstatSync(join(r.p.deployPath, 'current')).isSymbolicLink());
  const cur = join(r.p.deployPath, 'current');
  assert.equal(readFileSync(join(cur, 'index.html'), 'utf8'), 'v1');
  assert.equal(readFileSync(join(cur, 'built.txt'), 'utf8').trim(), `site ${sha} refs/heads/main`);
  assert.ok(!existsSync(join(cur, '.git')), 'a release is a clean tree, not a checkout');
  const log = r.log(job);
  assert.match(log, /building/);
  assert.match(log, /warn/);
  assert.match(log, /is live/);
});

test('a failed build leaves current untouched, removes the new release and fails the job with the reason', async (t) => {
  const r = rig(t, { build: ['test -f ok || (echo "no ok file" >&2; exit 3)'] });
  r.p.pushCommit({ ok: '', 'index.html': 'v1' });
  assert.equal((await r.deploy()).state, 'succeeded');
  const before = r.current();
  const releasesBefore = r.releases();
  r.p.pushCommit({ 'index.html': 'v2' });
  const { git } = await import('../../test/helpers/git.js');
  git(r.p.work, 'rm', '-q', 'ok');
  git(r.p.work, 'commit', '-qm', 'drop ok');
  git(r.p.work, 'push', '-q', 'origin', 'main');
  const failed = await r.deploy();
  assert.equal(failed.state, 'failed');
  assert.match(failed.reason ?? '', /exit 3: no ok file/);
  assert.equal(r.current(), before);
  assert.deepEqual(r.releases(), releasesBefore, 'the failed release is gone');
  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'index.html'), 'utf8'), 'v1');
});

test('a failed fetch leaves current untouched and says why', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ a: '1' });
  assert.equal((await r.deploy()).state, 'succeeded');
  const before = r.current();
  const job = await r.deploy('refs/heads/does-not-exist');
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /refs\/heads\/does-not-exist does not exist/);
  assert.equal(r.current(), before);
});

test('deploying the commit that is already live is a skipped no-op; --force deploys it again', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ a: '1' });
  await r.deploy();
  const skipped = await r.deploy();
  assert.equal(skipped.state, 'skipped');
  assert.match(skipped.reason ?? '', /already live/);
  assert.equal(r.releases().length, 1);
  const forced = await r.deploy(undefined, true);
  assert.equal(forced.state, 'succeeded');
  assert.equal(r.releases().length, 2);
});

test('keep N prunes old releases but never current or the previous good one', async (t) => {
  const r = rig(t, { keep: 2 });
  for (let i = 1; i <= 4; i++) {
    r.p.pushCommit({ v: String(i) });
    assert.equal((await r.deploy()).state, 'succeeded');
  }
  const rel = r.releases();
  assert.equal(rel.length, 2);
  // Ids made in the same second sort by sha, so compare contents, not names.
  const versions = rel.map((id) => readFileSync(join(r.p.deployPath, 'releases', id, 'v'), 'utf8')).sort();
  assert.deepEqual(versions, ['3', '4'], 'the live release and the previous good one are kept');
  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'v'), 'utf8'), '4');
});

test('shared entries are linked into every release; a missing shared file fails before the switch', async (t) => {
  const r = rig(t, { shared: ['.env', 'uploads/'] });
  r.p.pushCommit({ 'uploads/committed.txt': 'replaced by the shared folder' });
  const missing = await r.deploy();
  assert.equal(missing.state, 'failed');
  assert.match(missing.reason ?? '', /shared file .*\.env does not exist/);
  assert.equal(r.current(), null);
  mkdirSync(join(r.p.deployPath, 'shared'), { recursive: true });
  writeFileSync(join(r.p.deployPath, 'shared', '.env'), 'SECRET=1\n');
  const ok = await r.deploy();
  assert.equal(ok.state, 'succeeded', r.log(ok));
  const cur = join(r.p.deployPath, 'current');
  assert.equal(readFileSync(join(cur, '.env'), 'utf8'), 'SECRET=1\n');
  assert.ok(lstatSync(join(cur, 'uploads')).isSymbolicLink());
  assert.ok(!existsSync(join(cur, 'uploads', 'committed.txt')));
});

test('a failed restart switches current back to the previous release and restarts that', async (t) => {
  const r = rig(t, { restart: 'echo "restart $AUTOPULL_SHA" >> ../../restarts.log; test ! -f broken' });
  r.p.pushCommit({ v: '1' });
  assert.equal((await r.deploy()).state, 'succeeded');
  const good = r.current();
  r.p.pushCommit({ v: '2', broken: '' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.equal(r.current(), good);
  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'v'), 'utf8'), '1');
  const restarts = readFileSync(join(r.p.deployPath, 'restarts.log'), 'utf8').trim().split('\n');
  assert.equal(restarts.length, 3, 'first deploy, failed restart, restart of the previous release');
  assert.equal(r.releases().length, 1);
});

test('the delivery sha is only a hint: autopull deploys what the remote branch points to', async (t) => {
  const r = rig(t);
  const sha = r.p.pushCommit({ v: '1' });
  const { id } = r.store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'f'.repeat(40), trigger: 'webhook' });
  const worker = new Worker(r.config, r.store, silentLogger());
  worker.kick('site');
  await worker.idle();
  const job = r.store.getJob(id) as Job;
  assert.equal(job.state, 'succeeded');
  assert.equal(job.target_sha, sha);
  assert.match(r.log(job), /the delivery said fffffff but refs\/heads\/main is at/);
});

test('a build that outlives deploy.timeout is stopped and the job fails', async (t) => {
  const r = rig(t, { build: ['sleep 30'] });
  r.p.pushCommit({ v: '1' });
  const job = await r.deployWith((yaml) => yaml.replace('keep: 5', 'keep: 5\n      timeout: 1s'));
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /timed out after 1s/);
  assert.equal(r.current(), null);
  assert.deepEqual(r.releases(), []);
});

test('a restart started beside the checkout never runs when the deploy fails before the switch', async (t) => {
  const r = rig(t, { restart: 'echo "restart $AUTOPULL_SHA" >> ../../restarts.log', shared: ['.env'] });
  r.p.pushCommit({ v: '1' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.equal(job.failure, 'shared_failed', r.log(job));
  assert.ok(!existsSync(join(r.p.deployPath, 'restarts.log')), 'the restart did not run');
  assert.equal(r.store.getJob(job.id)?.child_pid, null);
  mkdirSync(join(r.p.deployPath, 'shared'), { recursive: true });
  writeFileSync(join(r.p.deployPath, 'shared', '.env'), 'X=1\n');
  const ok = await r.deploy();
  assert.equal(ok.state, 'succeeded', r.log(ok));
  assert.equal(readFileSync(join(r.p.deployPath, 'restarts.log'), 'utf8'), `restart ${ok.target_sha}\n`);
  assert.match(r.log(ok), /\$ echo "restart \$AUTOPULL_SHA"/);
});
