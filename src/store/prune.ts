import type Database from 'better-sqlite3';
import type { RawConfig } from '../config/schema.js';
import { FINAL_STATES } from './types.js';

/**
 * One retention pass over the database (the policy and contracts are retention.ts's): a
 * function of a connection alone, so the ledger's writer thread (later-writer-worker.ts) runs
 * it as well as the main thread.
 */

export type RetentionPolicy = RawConfig['retention'];

export interface Pruned {
  /** Accepted deliveries deleted. */
  deliveries: number;
  /** Rejected deliveries deleted. */
  rejected: number;
  log_lines: number;
}

const ACCEPTED = 'status_code BETWEEN 200 AND 299';
const FINAL = FINAL_STATES.map((s) => `'${s}'`).join(', ');

/**
 * The two classes, each read through its partial index on (id, received_at, status_code)
 * (migration 006, whose WHERE is the same text): INDEXED BY makes a query that could not use
 * it an error, not a scan of the table.
 */
const CLASSES = [
  { index: 'deliveries_accepted', where: ACCEPTED, policy: 'deliveries', counter: 'deliveries' },
  { index: 'deliveries_rejected', where: `NOT (${ACCEPTED})`, policy: 'rejected', counter: 'rejected' },
] as const;

export interface PruneOptions {
  batch?: number;
  /** Checked between batches (the store may be closing). */
  shouldStop?: () => boolean;
}

/** Runs one prune. */
export async function prune(db: Database.Database, policy: RetentionPolicy, now: Date, opts: PruneOptions = {}): Promise<Pruned> {
  const batch = opts.batch ?? 500;
  const stop = opts.shouldStop ?? (() => false);
  const out: Pruned = { deliveries: 0, rejected: 0, log_lines: 0 };
  for (const c of CLASSES) await pruneClass(db, c, policy[c.policy], now, { batch, stop }, out);
  await pruneJobLogs(db, policy.job_logs, now, batch, stop, out);
  return out;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One class's pass, in windows of `batch` of its rows past their count or age (by id), each
 * deleted but for those a queued or running job references. The rows are found in the class's
 * index alone (it covers these queries): the count cut walks its newest `max_count` entries,
 * the rows due are read from the oldest entry on. The table, whose rows carry the bodies, is
 * read only for the rows deleted: a pass costs what it deletes, plus a walk of the class's
 * index entries (some 40 bytes each). Rows written during the pass are newer than the cut and
 * the age, and stay.
 */
async function pruneClass(
  db: Database.Database,
  c: (typeof CLASSES)[number],
  policy: { max_age: number; max_count: number },
  now: Date,
  { batch, stop }: { batch: number; stop: () => boolean },
  out: Pruned,
): Promise<void> {
  const from = `FROM deliveries INDEXED BY ${c.index} WHERE ${c.where}`;
  // The id at and below which the class is over its count (the newest max_count stay); 0 when under.
  const cut = (db.prepare(`SELECT id ${from} ORDER BY id DESC LIMIT 1 OFFSET ?`).pluck().get(policy.max_count) as number | undefined) ?? 0;
  const params = { cut, before: new Date(now.getTime() - policy.max_age).toISOString() };
  const due = `${from} AND id > @after AND (id <= @cut OR received_at < @before)`;
  const windowEnd = db.prepare(`SELECT id ${due} ORDER BY id LIMIT 1 OFFSET @n`).pluck();
  const del = db.prepare(
    `DELETE FROM deliveries WHERE id IN (SELECT id ${due} AND id <= @upto)
       AND id NOT IN (SELECT delivery FROM job_deliveries WHERE job_id IN (SELECT id FROM jobs INDEXED BY jobs_active WHERE state IN ('queued', 'running')))`,
  );
  for (let after = 0; !stop(); await nextTurn()) {
    const end = windowEnd.get({ ...params, after, n: batch - 1 }) as number | undefined;
    out[c.counter] += del.run({ ...params, after, upto: end ?? Number.MAX_SAFE_INTEGER }).changes;
    if (end === undefined) return;
    after = end;
  }
}

/** Deletes the log lines of final jobs that finished before `max_age` or are not among the newest `max_jobs`. */
async function pruneJobLogs(db: Database.Database, policy: RetentionPolicy['job_logs'], now: Date, batch: number, stop: () => boolean, out: Pruned): Promise<void> {
  const cut = (db.prepare(`SELECT id FROM jobs ORDER BY id DESC LIMIT 1 OFFSET ?`).pluck().get(policy.max_jobs) as number | undefined) ?? 0;
  const before = new Date(now.getTime() - policy.max_age).toISOString();
  const jobs = db
    .prepare(
      `SELECT id FROM jobs WHERE state IN (${FINAL}) AND (COALESCE(finished_at, updated_at) < ? OR id <= ?)
       AND EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = jobs.id) ORDER BY id`,
    )
    .pluck()
    .all(before, cut) as number[];
  const del = db.prepare(`DELETE FROM job_logs WHERE rowid IN (SELECT rowid FROM job_logs WHERE job_id = ? LIMIT ?)`);
  for (const job of jobs) {
    for (;;) {
      if (stop()) return;
      const { changes } = del.run(job, batch);
      out.log_lines += changes;
      await nextTurn();
      if (changes < batch) break;
    }
  }
}
