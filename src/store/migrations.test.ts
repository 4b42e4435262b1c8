import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../test/helpers/tmp.js';
import { Store } from './store.js';
import { SCHEMA_VERSION } from './migrations.js';
import { canMove, RELEASE_STATES } from './release-state.js';
import { releaseLedger } from './release-ledger.js';
import { prune } from './retention.js';

const FIXTURE = new URL('../../test/fixtures/db/v0.1.0.sql', import.meta.url).pathname;

function oldDatabase(t: { after(fn: () => unknown): void }): string {
  const file = join(tempDir(t), 'autopull.db');
  const db = new Database(file);
  db.exec(readFileSync(FIXTURE, 'utf8'));
  db.close();
  return file;
}

test('a database written by 0.1.0 opens with its whole history and ready releases mapped to one meaning', (t) => {
  const store = new Store(oldDatabase(t));
  t.after(() => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const deliveries = store.listDeliveries();
  assert.equal(deliveries.length, 2);
  const queued = deliveries.find((d) => d.delivery_id === 'd-1');
  assert.deepEqual(queued?.jobs, [1], 'the delivery keeps its job (from job_deliveries, the one copy left)');
  assert.deepEqual(store.logsAfter(1).map((l) => l.line), ['fetch /srv/git/site.git', 'building \u001b[32mok\u001b[0m']);
  assert.equal(store.getJob(3)?.failure, 'interrupted');
  assert.equal(store.getBad('site', 'c'.repeat(40))?.job_id, 2);
  const states = Object.fromEntries(store.listReleases('site').map((r) => [r.id, r.state]));
  assert.deepEqual(states, {
    '20261119T090000-bbbbbbb': 'replaced', // was live before: known good
    '20261120T100000-aaaaaaa': 'live',
    '20261120T110000-ccccccc': 'failed',
    '20261120T120000-ddddddd': 'built', // a supervised release stopped in its health wait: never checked
  });
  // The queued jobs are still there to run.
  assert.deepEqual(store.reposWithQueuedJobs().sort(), ['docs', 'site']);
});

test('opening a migrated database again changes nothing, and a newer one is refused', (t) => {
  const file = oldDatabase(t);
  new Store(file).close();
  const again = new Store(file);
  assert.equal(again.listDeliveries().length, 2);
  again.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  again.close();
  assert.throws(() => new Store(file), /newer than this autopull knows/);
});

test('a database from 0.1.0 gets the indexes retention reads its classes through, and is pruned by them', async (t) => {
  const store = new Store(oldDatabase(t));
  t.after(() => store.close());
  const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('deliveries_accepted', 'deliveries_rejected', 'jobs_active') ORDER BY name`).pluck().all();
  assert.deepEqual(indexes, ['deliveries_accepted', 'deliveries_rejected', 'jobs_active']);
  // d-1 (accepted) and d-2 (rejected) are both over a count of 0; no queued or running job holds d-1.
  const policy = { interval: 1000, deliveries: { max_age: 1e12, max_count: 0 }, rejected: { max_age: 1e12, max_count: 0 }, job_logs: { max_age: 1e12, max_jobs: 1000 } };
  assert.deepEqual(await prune(store.db, policy, new Date()), { deliveries: 1, rejected: 1, log_lines: 0 });
  assert.equal(store.listDeliveries().length, 0);
});

test('the release ledger refuses moves the state machine does not allow', (t) => {
  const store = new Store(join(tempDir(t), 'autopull.db'));
  t.after(() => store.close());
  const ledger = releaseLedger(store, 'site');
  ledger.create('20261120T100000-aaaaaaa', 'a'.repeat(40), 1);
  assert.throws(() => ledger.move('20261120T100000-aaaaaaa', 'live'), /cannot go from building to live/);
  ledger.move('20261120T100000-aaaaaaa', 'built');
  assert.throws(() => ledger.move('20261120T100000-aaaaaaa', 'replaced'), /cannot go from built to replaced/);
  ledger.move('20261120T100000-aaaaaaa', 'failed');
  for (const to of RELEASE_STATES) if (to !== 'failed') assert.equal(canMove('failed', to), false, `failed -> ${to}`);
  assert.equal(store.getRelease('site', '20261120T100000-aaaaaaa')?.state, 'failed');
});
