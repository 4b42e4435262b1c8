import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { autoGc, ensureCache, fetchAll, materialise, materialiseAhead, resolveCommit } from './git.js';
import { bareRemote, commit, eagerGc, git, packCount, push, workRepo } from '../../test/helpers/git.js';
import { tempDir } from '../../test/helpers/tmp.js';
import type { Sha } from '../lib/ids.js';

// The cache's refs are read from its files for a branch; git answers for everything else.

function setup(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const remote = bareRemote(join(dir, 'remote.git'));
  const work = workRepo(join(dir, 'work'), remote);
  return { dir, remote, work, cache: join(dir, 'cache.git') };
}

test('a branch resolves from its loose ref, then from packed-refs, and a deleted one to null', async (t) => {
  const { remote, work, cache } = setup(t);
  const first = commit(work, { a: '1' });
  push(work);
  git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/other');
  await fetchAll(cache, remote);
  assert.equal(await resolveCommit(cache, 'refs/heads/main'), first);
  git(cache, 'pack-refs', '--all');
  assert.ok(!existsSync(join(cache, 'refs/heads/main')), 'packed now');
  assert.equal(await resolveCommit(cache, 'refs/heads/main'), first);
  const second = commit(work, { a: '2' });
  push(work);
  await fetchAll(cache, remote);
  assert.equal(await resolveCommit(cache, 'refs/heads/main'), second, 'the loose ref written by the fetch wins over the packed one');
  git(remote, 'branch', '-D', 'other');
  await fetchAll(cache, remote);
  assert.equal(await resolveCommit(cache, 'refs/heads/other'), null, 'pruned: gone from packed-refs too');
  assert.equal(await resolveCommit(cache, 'refs/heads/nope'), null);
  assert.equal(await resolveCommit(cache, 'refs/heads/../../config'), null);
});

test('a name git refuses resolves to null, as git says, not to the file a path join finds', async (t) => {
  const { remote, work, cache } = setup(t);
  commit(work, { a: '1' });
  push(work);
  await fetchAll(cache, remote);
  for (const rev of ['refs/heads/./main', 'refs/heads//main', 'refs/heads/main/', 'refs/heads/x/../main']) {
    assert.equal(await resolveCommit(cache, rev), null, rev);
  }
});

test('an annotated tag resolves to its commit, a sha to itself', async (t) => {
  const { remote, work, cache } = setup(t);
  const sha = commit(work, { a: '1' });
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'tag', '-a', 'v1', '-m', 'v1');
  push(work);
  git(work, 'push', '-q', 'origin', 'v1');
  await fetchAll(cache, remote);
  assert.notEqual(git(cache, 'rev-parse', 'refs/tags/v1'), sha, 'the tag object itself');
  assert.equal(await resolveCommit(cache, 'refs/tags/v1'), sha);
  assert.equal(await resolveCommit(cache, sha), sha);
});

test('materialise writes the tree of a commit into a folder: files, modes and links, no .git', async (t) => {
  const { dir, remote, work, cache } = setup(t);
  writeFileSync(join(work, 'run'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('a/b/c.txt', join(work, 'link'));
  const sha = commit(work, { 'a/b/c.txt': 'hi' }) as Sha;
  push(work);
  await fetchAll(cache, remote);
  const out = join(dir, 'release');
  await materialise(cache, sha, out);
  assert.equal(readFileSync(join(out, 'a/b/c.txt'), 'utf8'), 'hi');
  assert.ok((lstatSync(join(out, 'run')).mode & 0o100) !== 0, 'executable');
  assert.equal(readlinkSync(join(out, 'link')), 'a/b/c.txt');
  assert.deepEqual(readdirSync(out).sort(), ['a', 'link', 'run']);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.index-')), [], 'the throw-away index is gone');
});

test('materialise of a commit with a link and a file under the same name writes nothing outside the release', async (t) => {
  const { dir, cache } = setup(t);
  await ensureCache(cache);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  // Made with plumbing: no working tree can hold it. A sender who can push can push this.
  const run = (args: string[], input: string) => execFileSync('git', ['--git-dir', cache, ...args], { input, encoding: 'utf8' }).trim();
  const blob = run(['hash-object', '-w', '--stdin'], 'owned\n');
  const link = run(['hash-object', '-w', '--stdin'], outside);
  const sub = run(['mktree'], `100644 blob ${blob}\tx\n`);
  const tree = run(['mktree', '--missing'], `120000 blob ${link}\tlink\n040000 tree ${sub}\tlink\n`);
  const sha = run(['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit-tree', '-m', 'evil', tree], '') as Sha;
  const out = join(dir, 'release');
  await materialise(cache, sha, out).catch(() => undefined); // git may refuse it: either way, nothing outside
  assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
  assert.ok(!existsSync(join(out, 'link')) || !lstatSync(join(out, 'link')).isSymbolicLink() || !existsSync(join(out, 'link', 'x')));
});

test('a fetch leaves git\'s auto gc to autoGc, which repacks when git would', async (t) => {
  const { remote, work, cache } = setup(t);
  await ensureCache(cache);
  eagerGc(cache);
  commit(work, { a: '1' });
  push(work);
  await fetchAll(cache, remote);
  commit(work, { a: '2' });
  push(work);
  await fetchAll(cache, remote);
  assert.equal(packCount(cache), 2, 'the fetch ran no gc --auto (git\'s own would have repacked these two)');
  await autoGc(cache);
  assert.equal(packCount(cache), 1, 'autoGc repacked');
  await autoGc(join(dirname(cache), 'not-made.git'));
});

test('materialiseAhead: a checkout started before the fetch writes the commit named after it; an unused one goes', async (t) => {
  const { dir, remote, work, cache } = setup(t);
  const ahead = materialiseAhead(cache);
  const unused = materialiseAhead(cache);
  const sha = commit(work, { 'a/b.txt': 'one', 'odd name\n.txt': 'two' }) as Sha;
  push(work);
  await fetchAll(cache, remote);
  const out = join(dir, 'release one');
  await ahead.run(sha, out);
  assert.equal(readFileSync(join(out, 'a/b.txt'), 'utf8'), 'one');
  assert.equal(readFileSync(join(out, 'odd name\n.txt'), 'utf8'), 'two');
  await assert.rejects(ahead.run(sha, out), /more than once/);
  await unused.cancel();
  // A folder that cannot go on one line is checked out the plain way.
  const odd = join(dir, 'line\nbreak');
  const third = materialiseAhead(cache);
  await third.run(sha, odd);
  assert.equal(readFileSync(join(odd, 'a/b.txt'), 'utf8'), 'one');
  // A commit the cache does not have fails as materialise does.
  await assert.rejects(materialiseAhead(cache).run('f'.repeat(40) as Sha, join(dir, 'x')), /read-tree/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.index-')), [], 'the throw-away indexes are gone');
});
