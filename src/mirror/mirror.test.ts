import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { Store, type Job } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { enqueueMirror } from '../runner/manual.js';
import { listMirrorStatus } from '../store/mirror-status.js';
import { repoStatus } from '../runner/status.js';
import { silentLogger } from '../lib/log.js';
import { bareRemote, commit, git, push, workRepo } from '../../test/helpers/git.js';
import { tempDir } from '../../test/helpers/tmp.js';

interface MirrorRig {
  dir: string;
  work: string;
  store: Store;
  mirror(): Promise<Job>;
  log(job: Job): string;
  refs(bare: string): Record<string, string>;
}

/** A source remote, a working clone, and a mirror-only repo `src` with the given targets (YAML). */
function rig(t: { after(fn: () => unknown): void }, targetsYaml: (dir: string) => string): MirrorRig {
  const dir = tempDir(t);
  const remote = bareRemote(join(dir, 'source.git'));
  const work = workRepo(join(dir, 'work'), remote);
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(configFile, `data_dir: ./data\nrepos:\n  src:\n    url: ./source.git\n    insecure: true\n    mirror:\n${targetsYaml(dir)}`);
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  return {
    dir,
    work,
    store,
    async mirror() {
      const { id } = enqueueMirror(config, store, 'src');
      worker.kick('src');
      await worker.idle();
      return store.getJob(id) as Job;
    },
    log: (job) => store.logsAfter(job.id).map((l) => l.line).join('\n'),
    refs(bare) {
      const out = git(bare, 'for-each-ref', '--format=%(refname) %(objectname)');
      return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
    },
  };
}

test('git -> git: every branch and tag reaches each target, and refs deleted at the source are deleted there', async (t) => {
  const r = rig(t, (d) => `      - url: ./a.git\n      - url: ${join(d, 'b.git')}\n`);
  bareRemote(join(r.dir, 'a.git'));
  bareRemote(join(r.dir, 'b.git'));
  commit(r.work, { 'a.txt': '1' }, 'one');
  git(r.work, 'tag', '-a', 'v1', '-m', 'release 1');
  git(r.work, 'branch', 'feature');
  git(r.work, 'branch', 'old');
  git(r.work, 'push', '-q', 'origin', 'main', 'feature', 'old', 'v1');
  const source = join(r.dir, 'source.git');

  const first = await r.mirror();
  assert.equal(first.state, 'succeeded', r.log(first));
  assert.deepEqual(r.refs(join(r.dir, 'a.git')), r.refs(source));
  assert.deepEqual(r.refs(join(r.dir, 'b.git')), r.refs(source));
  assert.equal(Object.keys(r.refs(source)).length, 4);
  assert.match(r.log(first), /mirror .*a\.git: 4 updated, 0 deleted, 0 unchanged/);

  commit(r.work, { 'a.txt': '2' }, 'two');
  push(r.work);
  git(r.work, 'push', '-q', 'origin', ':refs/heads/old', ':refs/tags/v1');
  const second = await r.mirror();
  assert.equal(second.state, 'succeeded', r.log(second));
  for (const target of ['a.git', 'b.git']) {
    const refs = r.refs(join(r.dir, target));
    assert.deepEqual(refs, r.refs(source));
    assert.equal(refs['refs/heads/old'], undefined);
    assert.equal(refs['refs/tags/v1'], undefined);
  }
  assert.match(r.log(second), /1 updated, 2 deleted, 1 unchanged/);
  const status = listMirrorStatus(r.store.db, 'src');
  assert.deepEqual(status.map((s) => s.state), ['ok', 'ok']);
  assert.ok(status.every((s) => s.last_success_at !== null && s.failures === 0));
});

test('force: false reports a diverged ref by name and still pushes the other refs', async (t) => {
  const r = rig(t, () => `      - url: ./strict.git\n        force: false\n        prune: false\n`);
  const strict = bareRemote(join(r.dir, 'strict.git'));
  commit(r.work, { 'a.txt': '1' }, 'one');
  git(r.work, 'branch', 'dev');
  git(r.work, 'push', '-q', 'origin', 'main', 'dev');
  assert.equal((await r.mirror()).state, 'succeeded');

  // Someone commits straight to the target's main: it diverges from the source.
  const other = workRepo(join(r.dir, 'other'), strict);
  git(other, 'fetch', '-q', 'origin');
  git(other, 'checkout', '-q', '-b', 'main', 'origin/main');
  const theirs = commit(other, { 'b.txt': 'theirs' }, 'theirs');
  git(other, 'push', '-q', 'origin', 'main');
  commit(r.work, { 'a.txt': '2' }, 'ours on main');
  git(r.work, 'checkout', '-q', 'dev');
  const dev = commit(r.work, { 'c.txt': 'dev' }, 'dev moves');
  git(r.work, 'tag', 'v2');
  git(r.work, 'push', '-q', '--force', 'origin', 'main', 'dev', 'v2');

  const job = await r.mirror();
  assert.equal(job.state, 'succeeded', 'a mirror never fails the job');
  const log = r.log(job);
  assert.match(log, /1 rejected: refs\/heads\/main \((non-fast-forward|fetch first)\)/);
  const refs = r.refs(strict);
  assert.equal(refs['refs/heads/main'], theirs, 'the diverged ref is left as it is');
  assert.equal(refs['refs/heads/dev'], dev, 'the other refs went through');
  assert.ok(refs['refs/tags/v2']);
  const [status] = listMirrorStatus(r.store.db, 'src');
  assert.equal(status?.state, 'diverged');
  assert.match(status?.last_error ?? '', /refs\/heads\/main/);
  assert.equal(status?.next_retry_at, null, 'retrying cannot fix a diverged ref');
});

test('an unreachable target reports its error and schedules a retry while another target succeeds', async (t) => {
  const r = rig(t, (d) => `      - url: ${join(d, 'missing', 'nothing.git')}\n      - url: git://127.0.0.1:1/closed.git\n      - url: ./good.git\n`);
  const good = bareRemote(join(r.dir, 'good.git'));
  const sha = commit(r.work, { 'a.txt': '1' });
  push(r.work);
  const before = Date.now();
  const job = await r.mirror();
  assert.equal(job.state, 'succeeded', r.log(job));
  assert.equal(r.refs(good)['refs/heads/main'], sha);
  const log = r.log(job);
  assert.match(log, /mirror .*nothing\.git failed: git ls-remote .*does not appear to be a git repository/);
  assert.match(log, /mirror git:\/\/127\.0\.0\.1:1\/closed\.git failed: .*(refused|unable to connect)/i);
  const byTarget = Object.fromEntries(listMirrorStatus(r.store.db, 'src').map((s) => [s.target, s]));
  assert.equal(byTarget[join(r.dir, 'good.git')]?.state, 'ok');
  const failed = byTarget['git://127.0.0.1:1/closed.git'];
  assert.equal(failed?.state, 'failed');
  assert.equal(failed?.failures, 1);
  const retryIn = Date.parse(failed?.next_retry_at ?? '') - before;
  assert.ok(retryIn >= 29_000 && retryIn <= 31_000 + (Date.now() - before), `first retry after ~30s, got ${retryIn}ms`);

  const again = await r.mirror();
  const after = listMirrorStatus(r.store.db, 'src').find((s) => s.target === 'git://127.0.0.1:1/closed.git');
  assert.equal(after?.failures, 2, r.log(again));
  const second = Date.parse(after?.next_retry_at ?? '') - Date.parse(after?.updated_at ?? '');
  assert.ok(second >= 59_000 && second <= 61_000, `then ~60s, got ${second}ms`);

  const [s] = repoStatus(loadConfig(join(r.dir, 'autopull.yml')), r.store, 'src');
  assert.equal(s?.mirrors.length, 3);
  assert.ok(s?.mirrors.some((m) => m.state === 'failed' && /refused|unable/i.test(m.last_error ?? '')));
});
