import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMirror, refspecs, renameDefault } from './plan.js';
import { backoffMs } from './backoff.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const all = { refs: ['refs/heads/*', 'refs/tags/*'], prune: true, force: true };

test('a plan pushes what differs, deletes what the source lost, and leaves the rest', () => {
  const source = new Map([['refs/heads/main', A], ['refs/tags/v1', B], ['refs/notes/x', A]]);
  const target = new Map([['refs/heads/main', A], ['refs/heads/gone', B], ['refs/pull/1/head', B]]);
  const plan = planMirror(source, target, all);
  assert.deepEqual(plan, { update: [{ ref: 'refs/tags/v1', sha: B, force: true }], delete: ['refs/heads/gone'], unchanged: 1 });
  assert.deepEqual(refspecs(plan), [`+${B}:refs/tags/v1`, ':refs/heads/gone']);
  assert.deepEqual(planMirror(source, target, { ...all, prune: false }).delete, []);
  assert.deepEqual(refspecs(planMirror(source, new Map(), { ...all, force: false, refs: ['refs/heads/*'] })), [`${A}:refs/heads/main`]);
});

test('hg default becomes the configured branch unless a bookmark already has that name', () => {
  const src = new Map([['refs/heads/default', A], ['refs/heads/stable', B]]);
  assert.deepEqual([...renameDefault(src, 'refs/heads/default', 'main')].sort(), [['refs/heads/main', A], ['refs/heads/stable', B]]);
  assert.equal(renameDefault(new Map([...src, ['refs/heads/main', B]]), 'refs/heads/default', 'main').get('refs/heads/main'), B);
  assert.deepEqual(renameDefault(src, null, 'main'), src);
});

test('retries back off from 30 s, doubling, to at most 30 min', () => {
  assert.deepEqual([1, 2, 3, 4, 6, 7, 100].map((n) => backoffMs(n) / 1000), [30, 60, 120, 240, 960, 1800, 1800]);
});
