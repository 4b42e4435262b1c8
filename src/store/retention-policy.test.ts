import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { tempDir } from '../../test/helpers/tmp.js';
import { Store } from './store.js';
import { prune, type RetentionPolicy } from './retention.js';

// Retention reads each class of delivery through its index (migration 006): whatever the mix of
// classes, ages, jobs and batch size, a pass deletes exactly what the policy says, and the
// next one nothing.

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

interface Row {
  accepted: boolean;
  ageHours: number;
  /** The state of a job that references it: only queued and running ones keep it. */
  job: 'none' | 'queued' | 'running' | 'finished';
}

const rowArb = fc.record({
  accepted: fc.boolean(),
  ageHours: fc.integer({ min: 0, max: 48 }),
  job: fc.constantFrom('none', 'none', 'none', 'queued', 'running', 'finished'),
});
const classArb = fc.record({ max_age: fc.integer({ min: 1, max: 48 }).map((h) => h * HOUR), max_count: fc.integer({ min: 0, max: 12 }) });

/** What the policy keeps: per class, the newest max_count and those younger than max_age, and any a queued or running job needs. */
function expectedKept(rows: (Row & { id: number })[], policy: RetentionPolicy): number[] {
  const kept = new Set<number>();
  for (const accepted of [true, false]) {
    const p = accepted ? policy.deliveries : policy.rejected;
    const mine = rows.filter((r) => r.accepted === accepted).sort((a, b) => b.id - a.id);
    mine.forEach((r, rank) => {
      const young = NOW - r.ageHours * HOUR >= NOW - p.max_age;
      if ((rank < p.max_count && young) || r.job === 'queued' || r.job === 'running') kept.add(r.id);
    });
  }
  return [...kept].sort((a, b) => a - b);
}

function write(store: Store, rows: Row[]): (Row & { id: number })[] {
  return rows.map((r, i) => {
    const repo = `r${i}`;
    const record = {
      delivery_id: `d${i}`, provider: 'github', event: 'push', repo, received_at: new Date(NOW - r.ageHours * HOUR).toISOString(), remote_addr: '127.0.0.1',
      status_code: r.accepted ? (r.job === 'none' ? 200 : 202) : 403, outcome: 'test', message: 'm', headers: {}, body: Buffer.alloc(2000, 1), body_truncated: false,
    };
    const withJob = r.accepted && r.job !== 'none';
    const { id } = store.recordDelivery(record, withJob ? [{ repo, ref: 'refs/heads/main', hintSha: null }] : []);
    if (withJob && r.job !== 'queued') {
      const job = store.claim(repo, process.pid);
      assert.ok(job);
      if (r.job === 'finished') store.finishJob(job.id, 'succeeded', null);
    }
    return { ...r, job: r.accepted ? r.job : 'none', id };
  });
}

test('a retention pass deletes exactly the deliveries its policy says, in any batch size', async (t) => {
  const dir = tempDir(t);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(rowArb, { maxLength: 40 }), classArb, classArb, fc.integer({ min: 1, max: 6 }), async (rows, accepted, rejected, batch) => {
      const store = new Store(join(dir, `r${n++}.db`));
      try {
        const written = write(store, rows);
        const policy: RetentionPolicy = { interval: 600_000, deliveries: accepted, rejected, job_logs: { max_age: 90 * 24 * HOUR, max_jobs: 1000 } };
        const kept = expectedKept(written, policy);
        const out = await prune(store.db, policy, new Date(NOW), { batch });
        assert.deepEqual(store.db.prepare('SELECT id FROM deliveries ORDER BY id').pluck().all(), kept);
        const gone = written.filter((r) => !kept.includes(r.id));
        assert.deepEqual([out.deliveries, out.rejected], [gone.filter((r) => r.accepted).length, gone.filter((r) => !r.accepted).length]);
        const again = await prune(store.db, policy, new Date(NOW), { batch });
        assert.deepEqual([again.deliveries, again.rejected], [0, 0], 'a second pass finds nothing');
      } finally {
        store.close();
      }
    }),
    { numRuns: 60 },
  );
});
