import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { Store, type Job } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { enqueueMirror } from '../runner/manual.js';
import { silentLogger } from '../lib/log.js';
import { bareRemote, git } from '../../test/helpers/git.js';
import { hg, hgCommit, hgRepo } from '../../test/helpers/hg.js';
import { tempDir } from '../../test/helpers/tmp.js';

/** hg-git keeps what git has no field for (the named branch) in a trailing `--HG--` block. */
function stripHgBlock(message: string): { text: string; hgBranch: string | null } {
  const at = message.indexOf('\n--HG--\n');
  if (at < 0) return { text: message.trim(), hgBranch: null };
  const block = message.slice(at);
  return { text: message.slice(0, at).trim(), hgBranch: /branch : (\S+)/.exec(block)?.[1] ?? null };
}

/** Every commit reachable from a git ref, newest first: author, message, files with contents. */
function gitHistory(bare: string, ref: string) {
  const shas = git(bare, 'rev-list', '--topo-order', ref).split('\n');
  return shas.map((sha) => {
    const files = git(bare, 'ls-tree', '-r', '--name-only', sha).split('\n').filter(Boolean).sort();
    return {
      author: git(bare, 'log', '-1', '--format=%an <%ae>', sha),
      ...stripHgBlock(git(bare, 'log', '-1', '--format=%B', sha)),
      tree: Object.fromEntries(files.map((f) => [f, git(bare, 'show', `${sha}:${f}`)])),
    };
  });
}

/** The same view of the hg changesets reachable from `rev`, newest first (two hg calls per commit at most). */
function hgHistory(repo: string, rev: string) {
  const entries = hg(repo, 'log', '-r', `sort(::${rev}, -rev)`, '-T', '{node}\x01{author}\x01{branch}\x01{desc}\x02').split('\x02').filter(Boolean);
  return entries.map((entry) => {
    const [node, author, branch, desc] = entry.split('\x01') as [string, string, string, string];
    const files = hg(repo, 'cat', '-r', node, '-T', '{path}\x01{data}\x02', 'glob:**').split('\x02').filter(Boolean);
    const tree = Object.fromEntries(files.map((f) => f.split('\x01') as [string, string]).map(([path, data]) => [path.trim(), data.trim()]));
    return { author, text: desc.trim(), hgBranch: branch === 'default' ? null : branch, tree: Object.fromEntries(Object.keys(tree).sort().map((k) => [k, tree[k]])) };
  });
}

test('hg -> git: branches, bookmarks and tags reach git with the same messages, authors and trees, also on a second push', async (t) => {
  const dir = tempDir(t);
  const src = hgRepo(join(dir, 'source'));
  const target = bareRemote(join(dir, 'github.git'));
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(configFile, `data_dir: ./data\nrepos:\n  legacy:\n    url: ./source\n    vcs: hg\n    insecure: true\n    branches: [default]\n    mirror:\n      - url: ./github.git\n`);
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const mirror = async () => {
    const { id } = enqueueMirror(config, store, 'legacy');
    worker.kick('legacy');
    await worker.idle();
    const job = store.getJob(id) as Job;
    const log = store.logsAfter(id).map((l) => l.line).join('\n');
    assert.equal(job.state, 'succeeded', log);
    assert.doesNotMatch(log, /failed/, log);
    return log;
  };
  const same = (gitRef: string, hgRev: string) => assert.deepEqual(gitHistory(target, gitRef), hgHistory(src, hgRev), `${gitRef} vs hg ${hgRev}`);

  hgCommit(src, { 'README': 'hello\n', 'src/app.py': 'print(1)\n' }, 'Initial import\n\nWith a body line.');
  hgCommit(src, { 'src/app.py': 'print(2)\n' }, 'Second change', 'Bob Builder <bob@example.org>');
  hg(src, 'branch', '-q', 'stable');
  hgCommit(src, { 'CHANGES': 'stable fix\n' }, 'Fix on stable');
  hg(src, 'update', '-q', 'default');
  hgCommit(src, { 'src/app.py': 'print(3)\n' }, 'Third on default');
  hg(src, 'bookmark', '-r', '.', 'feature-x');
  hg(src, 'tag', '-u', 'Alice Example <alice@example.com>', '-r', '1', 'v1.0');

  await mirror();
  const heads = git(target, 'for-each-ref', '--format=%(refname)').split('\n').sort();
  assert.deepEqual(heads, ['refs/heads/feature-x', 'refs/heads/main', 'refs/heads/stable', 'refs/tags/v1.0']);
  same('main', 'default');
  same('stable', 'stable');
  same('feature-x', 'feature-x');
  same('v1.0', 'v1.0');
  assert.equal(git(target, 'log', '-1', '--format=%s', 'v1.0'), 'Second change');
  assert.equal(git(target, 'log', '-1', '--format=%an', 'stable'), 'Alice Example');

  // A second push: more commits on default and a new named branch.
  hgCommit(src, { 'src/app.py': 'print(4)\n', 'docs/a.md': '# a\n' }, 'Fourth on default', 'Carol <carol@example.net>');
  hg(src, 'branch', '-q', 'hotfix');
  hgCommit(src, { 'HOTFIX': 'urgent\n' }, 'Hotfix branch');
  hg(src, 'update', '-q', 'default');
  const log = await mirror();
  assert.match(log, /2 updated/);
  same('main', 'default');
  same('hotfix', 'hotfix');
  same('stable', 'stable');
  assert.equal(git(target, 'log', '-1', '--format=%s', 'main'), 'Fourth on default');
});

test('hg -> git: default_branch names the git branch for hg default, and a deleted bookmark is deleted', async (t) => {
  const dir = tempDir(t);
  const src = hgRepo(join(dir, 'source'));
  const target = bareRemote(join(dir, 'github.git'));
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(configFile, `data_dir: ./data\nrepos:\n  legacy:\n    url: ./source\n    vcs: hg\n    insecure: true\n    mirror:\n      - url: ./github.git\n        default_branch: trunk\n`);
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const mirror = async () => {
    enqueueMirror(config, store, 'legacy');
    worker.kick('legacy');
    await worker.idle();
    return git(target, 'for-each-ref', '--format=%(refname)').split('\n').filter(Boolean).sort();
  };
  hgCommit(src, { a: '1' }, 'one');
  hg(src, 'bookmark', 'topic');
  assert.deepEqual(await mirror(), ['refs/heads/topic', 'refs/heads/trunk']);
  hg(src, 'bookmark', '--delete', 'topic');
  assert.deepEqual(await mirror(), ['refs/heads/trunk']);
});
