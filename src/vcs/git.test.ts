import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchAll, materialise, resolveCommit } from './git.js';
import { bareRemote, commit, git, push, workRepo } from '../../test/helpers/git.js';
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
