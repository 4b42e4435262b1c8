import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPrune } from './prune.js';

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
