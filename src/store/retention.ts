import type Database from 'better-sqlite3';
import type { RawConfig } from '../config/schema.js';
import type { Logger } from '../lib/log.js';
import { FINAL_STATES, type Store } from './store.js';

/**
 * Retention: deletes deliveries and job logs past their age or count (`retention:` in the
 * config), in the background of the server.
 *
 * Contracts:
 * - Accepted (2xx) and rejected deliveries are two classes, each with its own age and count,
 *   so a flood of rejected ones never pushes accepted history out.
 * - A delivery that a queued or running job references is never deleted, whatever its age;
 *   a job keeps the ids of its deliveries after they are pruned (the API then answers 404).
 * - Only final jobs lose their log (final states never change); the job rows are kept.
 * - Work is done in batches of at most `batch` rows, each its own statement, with the event
 *   loop free between them, so a big prune never holds the server for long. A crash between
 *   batches leaves a consistent database: the next run goes on where this one stopped.
 * - Space: freed pages go to SQLite's free list and are reused by later rows, so the file
 *   stops growing once retention holds; it does not shrink. `auto_vacuum` cannot be turned on
 *   for an existing database without a full VACUUM (a rewrite that locks the database for its
 *   length), so after a past flood an operator reclaims the space once, offline, with VACUUM.
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
  /** Called before each batch's delete (Store.settle: the writer thread's lock is free then). */
  beforeWrite?: () => void;
}

/** Runs one prune. */
export async function prune(db: Database.Database, policy: RetentionPolicy, now: Date, opts: PruneOptions = {}): Promise<Pruned> {
  const batch = opts.batch ?? 500;
  const stop = opts.shouldStop ?? (() => false);
  const ready = opts.beforeWrite ?? (() => {});
  const out: Pruned = { deliveries: 0, rejected: 0, log_lines: 0 };
  for (const c of CLASSES) await pruneClass(db, c, policy[c.policy], now, { batch, stop, ready }, out);
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
  { batch, stop, ready }: { batch: number; stop: () => boolean; ready: () => void },
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
    ready();
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

/**
 * The server's pruner: runs `prune` once at start, then every `interval`, and also as soon as
 * a class of deliveries has had `max_count` new rows since the last run, so a flood between
 * two ticks is cut while it lasts (at most about twice max_count rows of a class at any time).
 * Runs never overlap; a failed run is logged and the next one tries again.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private since = { accepted: 0, rejected: 0 };

  constructor(
    private readonly store: Store,
    private readonly policy: RetentionPolicy,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private readonly onDelivery = (d: { status_code: number }): void => {
    const accepted = d.status_code >= 200 && d.status_code <= 299;
    const n = accepted ? ++this.since.accepted : ++this.since.rejected;
    // Not in the request's turn: the run starts once this answer is on its way.
    if (n >= (accepted ? this.policy.deliveries.max_count : this.policy.rejected.max_count)) this.schedule(0);
  };

  start(): void {
    this.stopped = false;
    this.store.on('delivery', this.onDelivery);
    this.schedule(0);
  }

  /** Resolves once no run is in progress: after that the store may be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.store.off('delivery', this.onDelivery);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.since = { accepted: 0, rejected: 0 };
    this.running = this.runOnce().finally(() => {
      this.running = null;
      const again = this.again;
      this.again = false;
      this.schedule(again ? 0 : this.policy.interval);
    });
  }

  private async runOnce(): Promise<void> {
    try {
      const pruned = await prune(this.store.db, this.policy, this.now(), { shouldStop: () => this.stopped, beforeWrite: () => this.store.settle() });
      if (pruned.deliveries + pruned.rejected + pruned.log_lines > 0) {
        this.logger.info({ pruned }, `retention: deleted ${pruned.deliveries} accepted and ${pruned.rejected} rejected deliveries, ${pruned.log_lines} job log lines`);
      }
    } catch (err) {
      this.logger.warn({ err }, 'retention: prune failed; trying again at the next interval');
    }
  }
}
