import { nowIso } from '../lib/time.js';
import type { Db, Row } from './db.js';
import type { EnqueueInput, IgnoredJobInput, Job, JobParams, JobState } from './types.js';

/**
 * Table `jobs` and its link table `job_deliveries`. Invariants kept by the schema itself (so
 * they hold across processes): at most one queued job per (repo, kind, params) and at most
 * one running job per repo. The queue semantics on top (leases, ownership) are in
 * sqlite-job-queue.ts.
 */

/** Who runs a job: a process, named by pid and start time (a reused pid is not the owner). */
export interface JobOwner {
  pid: number;
  start: string | null;
}

export type FinalJobState = Exclude<JobState, 'queued' | 'running'>;

function toJob(row: Row, deliveries: number[]): Job {
  const { lease_until: _lease, ...rest } = row;
  return { ...(rest as unknown as Job), force: row.force === 1, params: typeof row.params === 'string' ? (JSON.parse(row.params) as JobParams) : null, deliveries };
}

/** Canonical JSON (sorted keys), so equal params compare equal in SQL; null for none. */
export function paramsKey(params: JobParams | null | undefined): string | null {
  if (!params) return null;
  const entries = Object.entries(params).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

/**
 * Latest wins: when the repo already has a queued job of this kind, that job takes the newer
 * ref/hint and the new deliveries (coalesced) instead of a second job being queued. Call it
 * inside a transaction.
 */
export function enqueueJob(db: Db, input: EnqueueInput): { id: number; coalesced: boolean } {
  const now = nowIso();
  const kind = input.kind ?? 'deploy';
  const params = paramsKey(input.params);
  const queued = db.sql(`SELECT id FROM jobs WHERE repo = ? AND kind = ? AND COALESCE(params, '') = ? AND state = 'queued'`).get(input.repo, kind, params ?? '') as { id: number } | undefined;
  let id: number;
  if (queued) {
    id = queued.id;
    if (input.merge !== 'older') {
      db.sql(`UPDATE jobs SET ref = COALESCE(@ref, ref), hint_sha = @hint, force = @force, params = COALESCE(@params, params), trigger = @trigger, updated_at = @now WHERE id = @id`)
        .run({ id, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, params, trigger: input.trigger, now });
    }
  } else {
    const inserted = db
      .sql(
        `INSERT INTO jobs (repo, kind, params, ref, hint_sha, force, state, trigger, created_at, updated_at, retry_of)
         VALUES (@repo, @kind, @params, @ref, @hint, @force, 'queued', @trigger, @now, @now, @retryOf)`,
      )
      .run({ repo: input.repo, kind, params, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, trigger: input.trigger, now, retryOf: input.retryOf ?? null });
    id = Number(inserted.lastInsertRowid);
  }
  for (const d of input.deliveries ?? []) linkDelivery(db, id, d);
  return { id, coalesced: queued !== undefined };
}

function linkDelivery(db: Db, job: number, delivery: number): void {
  db.sql(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery) VALUES (?, ?)`).run(job, delivery);
}

/** A job row born final in state `ignored` (a deleted ref): it shows in the job list and is never claimed. */
export function insertIgnoredJob(db: Db, input: IgnoredJobInput, delivery: number | null): number {
  const now = nowIso();
  const inserted = db
    .sql(
      `INSERT INTO jobs (repo, kind, ref, force, state, reason, trigger, created_at, updated_at, finished_at)
       VALUES (@repo, 'deploy', @ref, 0, 'ignored', @reason, 'webhook', @now, @now, @now)`,
    )
    .run({ repo: input.repo, ref: input.ref, reason: input.reason, now });
  const id = Number(inserted.lastInsertRowid);
  if (delivery !== null) linkDelivery(db, id, delivery);
  return id;
}

/**
 * Takes the repo's oldest queued job (only job `only` when given) when no job of the repo
 * runs, with a lease until `leaseUntil` (ms); null when there is none to take.
 */
export function claimJob(db: Db, repo: string, owner: JobOwner, leaseUntil: number | null, only: number | null): number | null {
  return db.tx(() => {
    if (db.sql(`SELECT 1 FROM jobs WHERE repo = ? AND state = 'running'`).get(repo)) return null;
    const next = db.sql(`SELECT id FROM jobs WHERE repo = ? AND state = 'queued' AND (@only IS NULL OR id = @only) ORDER BY id LIMIT 1`).get(repo, { only }) as { id: number } | undefined;
    if (!next) return null;
    const now = nowIso();
    db.sql(`UPDATE jobs SET state = 'running', started_at = ?, updated_at = ?, owner_pid = ?, owner_start = ?, lease_until = ? WHERE id = ?`).run(now, now, owner.pid, owner.start, leaseUntil, next.id);
    return next.id;
  }, true);
}

const OWNED = `id = @id AND state = 'running' AND owner_pid = @pid AND owner_start IS @start`;

/** Renews the lease of a job `owner` runs; false when the job is no longer theirs. */
export function renewLease(db: Db, id: number, owner: JobOwner, leaseUntil: number): boolean {
  return db.sql(`UPDATE jobs SET lease_until = @until WHERE ${OWNED}`).run({ id, pid: owner.pid, start: owner.start, until: leaseUntil }).changes === 1;
}

/** Ends a job; with `owner`, only while that owner still holds it (false otherwise). */
export function finishJob(db: Db, id: number, state: FinalJobState, reason: string | null, failure: string | null, owner?: JobOwner): boolean {
  const now = nowIso();
  const where = owner ? OWNED : `id = @id`;
  const res = db
    .sql(`UPDATE jobs SET state = @state, reason = @reason, failure = @failure, finished_at = @now, updated_at = @now, child_pid = NULL, lease_until = NULL WHERE ${where}`)
    .run({ id, state, reason, failure, now, pid: owner?.pid ?? null, start: owner?.start ?? null });
  return res.changes === 1;
}

export function updateJob(db: Db, id: number, fields: Partial<Pick<Job, 'target_sha' | 'release' | 'child_pid' | 'reason'>>): void {
  const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
  if (sets.length === 0) return;
  db.sql(`UPDATE jobs SET ${sets.join(', ')}, updated_at = @now WHERE id = @id`).run({ ...fields, id, now: nowIso() });
}

export function getJob(db: Db, id: number): Job | null {
  const row = db.sql(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
  if (!row) return null;
  const deliveries = (db.sql(`SELECT delivery FROM job_deliveries WHERE job_id = ? ORDER BY delivery`).all(id) as { delivery: number }[]).map((r) => r.delivery);
  return toJob(row, deliveries);
}

/** Newest first; `deliveries` is left empty (getJob reads them). */
export function listJobs(db: Db, opts: { repo?: string; limit?: number; states?: JobState[] } = {}): Job[] {
  const states = opts.states ?? null;
  // `repo = @repo` only when a repo is given: `(@repo IS NULL OR repo = @repo)` keeps SQLite
  // from using jobs_by_repo, and a repo's page would scan every job in the database.
  const where = [opts.repo !== undefined ? 'repo = @repo' : null, states ? `state IN (${states.map(() => '?').join(',')})` : null].filter((w) => w !== null);
  const rows = db
    .sql(`SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
    .all(...(states ?? []), { ...(opts.repo !== undefined ? { repo: opts.repo } : {}), limit: opts.limit ?? 50 }) as Row[];
  return rows.map((r) => toJob(r, []));
}

/**
 * A repo's running and queued jobs. `state = 'running'` and `state = 'queued'` written out
 * let SQLite use the partial indexes one_running_job and one_queued_job_per_params: a repo
 * with thousands of finished jobs costs no more than one with none.
 */
export function activeJobs(db: Db, repo: string): Job[] {
  const rows = db
    .sql(`SELECT * FROM jobs WHERE repo = @repo AND state = 'running' UNION ALL SELECT * FROM jobs WHERE repo = @repo AND state = 'queued'`)
    .all({ repo }) as Row[];
  return rows.map((r) => toJob(r, []));
}

export function reposWithQueuedJobs(db: Db): string[] {
  return (db.sql(`SELECT DISTINCT repo FROM jobs WHERE state = 'queued'`).all() as { repo: string }[]).map((r) => r.repo);
}

/** Running jobs whose owner is gone (`isAlive` false) or whose lease ended before `now` (ms). */
export function staleJobs(db: Db, isAlive: (owner: JobOwner) => boolean, now: number): Job[] {
  return (db.sql(`SELECT * FROM jobs WHERE state = 'running'`).all() as Row[])
    .filter((r) => r.owner_pid === null || !isAlive({ pid: r.owner_pid as number, start: r.owner_start as string | null }) || (r.lease_until !== null && (r.lease_until as number) < now))
    .map((r) => toJob(r, []));
}

/**
 * A running job that was cut short: marked `interrupted` (a final state that says what
 * happened) and its work queued again, merged into the repo's queued job when there is one
 * (that one is newer anyway). Call it inside a transaction.
 */
export function interruptAndRequeue(db: Db, job: Job, reason: string): void {
  const deliveries = getJob(db, job.id)?.deliveries ?? [];
  finishJob(db, job.id, 'interrupted', reason, 'interrupted');
  enqueueJob(db, { repo: job.repo, kind: job.kind, params: job.params, ref: job.ref, hintSha: job.hint_sha, trigger: 'recovery', deliveries, force: job.force, retryOf: job.id, merge: 'older' });
}
