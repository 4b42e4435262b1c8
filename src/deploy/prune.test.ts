import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rig } from '../../test/helpers/rig.js';
import { enqueueManual } from '../runner/manual.js';
import { releaseLedger } from '../store/release-ledger.js';
import { planPrune, prune } from './prune.js';
import { layout } from './releases.js';

const r = (id: string, state: 'building' | 'replaced' | 'live' | 'failed') => ({ id, state, created_at: `2026-11-22T00:00:0${id}.000Z` });

test('keeps the newest good releases, never current or the previous good one', () => {
  const rows = [r('5', 'live'), r('4', 'replaced'), r('3', 'replaced'), r('2', 'replaced'), r('1', 'replaced')];
  assert.deepEqual(planPrune(rows, 2, ['5', '4']).sort(), ['1', '2', '3']);
  assert.deepEqual(planPrune(rows, 1, ['5', '1']).sort(), ['2', '3', '4']);
});

test('failed and unfinished releases never count toward keep and are removed', () => {
  const rows = [r('6', 'failed'), r('5', 'failed'), r('4', 'building'), r('3', 'live'), r('2', 'replaced'), r('1', 'replaced')];
  assert.deepEqual(planPrune(rows, 2, ['3']).sort(), ['1', '4', '5', '6']);
});

test('order is by creation time, not by id (ids made in the same second sort by sha)', () => {
  const rows = [
    { id: '20261122T000000-fff0000', state: 'replaced' as const, created_at: '2026-11-22T00:00:00.100Z' },
    { id: '20261122T000000-0000000', state: 'live' as const, created_at: '2026-11-22T00:00:00.900Z' },
    { id: '20261122T000000-aaa0000', state: 'replaced' as const, created_at: '2026-11-22T00:00:00.500Z' },
  ];
  assert.deepEqual(planPrune(rows, 2, []), ['20261122T000000-fff0000']);
});

test('prune never removes a release whose job still runs (built by another process); once that job is over, it goes', async (t) => {
  const r = rig(t);
  const l = layout(r.p.deployPath);
  const { id: job } = enqueueManual(r.config, r.store, 'site', undefined, false);
  // Owned by the test process itself: alive, and not the pruning job.
  r.store.claim('site', process.pid);
  const release = '20261122T000000-aaaaaaa';
  r.store.putRelease({ repo: 'site', id: release, sha: 'a'.repeat(40), job_id: job, state: 'building' });
  mkdirSync(join(l.releases, release), { recursive: true });
  assert.deepEqual(await prune(releaseLedger(r.store, 'site'), l, 1, []), []);
  assert.ok(existsSync(join(l.releases, release)));
  r.store.finishJob(job, 'interrupted', 'its process died');
  assert.deepEqual(await prune(releaseLedger(r.store, 'site'), l, 1, []), [release]);
  assert.ok(!existsSync(join(l.releases, release)));
});

test('prune removes folders without holding the event loop (a release may be thousands of files)', async (t) => {
  const r = rig(t);
  const l = layout(r.p.deployPath);
  const release = '20261122T000000-bbbbbbb';
  r.store.putRelease({ repo: 'site', id: release, sha: 'b'.repeat(40), job_id: null, state: 'failed' });
  for (let i = 0; i < 20; i++) {
    mkdirSync(join(l.releases, release, 'node_modules', `m${i}`), { recursive: true });
    writeFileSync(join(l.releases, release, 'node_modules', `m${i}`, 'index.js'), '');
  }
  let turned = false;
  setImmediate(() => (turned = true));
  assert.deepEqual(await prune(releaseLedger(r.store, 'site'), l, 1, []), [release]);
  assert.ok(turned, 'the event loop turned while the folder was removed');
  assert.ok(!existsSync(join(l.releases, release)));
  assert.equal(r.store.getRelease('site', release), null);
});
