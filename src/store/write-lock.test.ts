import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, type DeliveryRecord } from './store.js';
import { tempDir } from '../../test/helpers/tmp.js';

// The ledger's writer thread (later-writer.ts) writes on a connection of its own while the main
// thread's transactions run: a transaction that reads and then writes must hold the write lock
// from its start (BEGIN IMMEDIATE). A deferred one that another connection's commit overtakes
// between its read and its write fails with SQLITE_BUSY (its snapshot is stale; SQLite does not
// wait then): a job not queued, a mirror retry or a notification lost during a flood.

function row(id: string): DeliveryRecord {
  return {
    delivery_id: id, provider: 'github', event: 'push', repo: 'site', received_at: new Date().toISOString(), remote_addr: '127.0.0.1',
    status_code: 403, outcome: 'signature_mismatch', message: 'm', headers: {}, body: Buffer.alloc(8000, 120), body_truncated: false,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function open(t: { after(fn: () => unknown): void }): { store: Store; other: Database.Database } {
  const file = join(tempDir(t), 'autopull.db');
  const store = new Store(file);
  // Another writer (the ledger thread's connection, or a CLI's): it does not wait for the lock.
  const other = new Database(file);
  other.pragma('busy_timeout = 0');
  t.after(() => {
    other.close();
    store.close();
  });
  return { store, other };
}

/** Whether `other` can commit a write now (false: the lock is held). */
function otherCommits(other: Database.Database): boolean {
  try {
    other.prepare(`INSERT INTO bad_commits (repo, sha, reason, job_id, marked_at) VALUES ('x', ?, 'r', NULL, 'now')`).run(Math.random().toString(16));
    return true;
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'SQLITE_BUSY');
    return false;
  }
}

test("Store.transaction holds the write lock from its start: another connection's commit cannot overtake its read", (t) => {
  const { store, other } = open(t);
  store.transaction(() => {
    assert.deepEqual(store.listReleases('site'), []);
    assert.equal(otherCommits(other), false, 'the other writer waits');
    store.putRelease({ repo: 'site', id: 'r1', sha: 'a'.repeat(40), job_id: null, state: 'built' });
  });
  assert.equal(store.getRelease('site', 'r1')?.id, 'r1');
});

test('jobs queued while the writer thread writes a flood are all queued (no SQLITE_BUSY)', async (t) => {
  const { store } = open(t);
  const errors: string[] = [];
  for (let i = 0; i < 150; i++) {
    for (let j = 0; j < 40; j++) store.recordDeliveryLater(row(`r${i}-${j}`), (err) => errors.push(`lost: ${String(err)}`));
    await turn(); // handed to the writer thread, which writes it now
    try {
      await store.queue.enqueue({ repo: `site${i % 3}`, ref: 'refs/heads/main', hintSha: null, trigger: 'webhook' });
    } catch (err) {
      errors.push(`enqueue: ${(err as Error).message}`);
    }
  }
  store.flushDeliveries();
  assert.deepEqual(errors, []);
  assert.equal(store.listJobs({ states: ['queued'] }).length, 3);
});
