import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { recordMirrorOutcome } from '../store/mirror-status.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { MirrorRetries } from './mirror-retries.js';

test('a due retry queues one mirror job for the failed target, once; an override keeps its own job', (t) => {
  const store = new Store(join(tempDir(t), 'autopull.db'));
  t.after(() => store.close());
  let now = new Date('2026-01-01T00:00:00Z');
  const kicked: string[] = [];
  const retries = new MirrorRetries(store, (r) => kicked.push(r), (r) => r === 'src', () => now);
  t.after(() => retries.stop());
  const fail = (target: string, params: object) =>
    recordMirrorOutcome(store.db, { repo: 'src', target, job: 1, state: 'failed', summary: 'failed', error: 'exit 128', retryAt: new Date(now.getTime() + 30_000), retryParams: params });
  fail('a', { targets: ['a'] });
  fail('b', { targets: ['b'] });
  fail('c', { owner: 'acme', name: 'x', targets: ['tmpl'] });
  assert.deepEqual(retries.tick(), [], 'nothing is due yet');
  now = new Date(now.getTime() + 31_000);
  const ids = retries.tick();
  assert.equal(ids.length, 2);
  const jobs = ids.map((id) => store.getJob(id));
  assert.deepEqual(jobs.map((j) => [j?.kind, j?.trigger, j?.params]), [
    ['mirror', 'retry', { targets: ['a', 'b'] }],
    ['mirror', 'retry', { owner: 'acme', name: 'x', targets: ['tmpl'] }],
  ]);
  assert.deepEqual(kicked, ['src', 'src']);
  assert.deepEqual(retries.tick(), [], 'a retry is queued once');
});
