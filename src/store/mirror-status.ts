import type Database from 'better-sqlite3';
import { nowIso } from '../lib/time.js';
import { prepared } from './db.js';
import type { JobParams } from './types.js';

/**
 * Per-target mirror health, one row per (repo, target url as shown: never a password).
 * `failures` counts consecutive failed runs; `next_retry_at` is when the server queues a
 * retry (null when none is due: healthy, diverged, or a retry already queued).
 */
export type MirrorState = 'ok' | 'failed' | 'diverged';

export interface MirrorStatus {
  repo: string;
  target: string;
  state: MirrorState;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  failures: number;
  next_retry_at: string | null;
  last_job: number | null;
  /** What the last run did ("2 updated, 1 deleted, 40 unchanged"). */
  summary: string | null;
  updated_at: string;
}

export interface MirrorOutcome {
  repo: string;
  target: string;
  job: number;
  state: MirrorState;
  summary: string;
  error?: string;
  /** For a failure: when to retry, and the params of the retry job. */
  retryAt?: Date;
  retryParams?: JobParams;
}

export function recordMirrorOutcome(db: Database.Database, o: MirrorOutcome): MirrorStatus {
  const now = nowIso();
  const ok = o.state === 'ok';
  prepared(db, 
    `INSERT INTO mirror_status (repo, target, state, last_success_at, last_error, last_error_at, failures, next_retry_at, retry_params, last_job, summary, updated_at)
     VALUES (@repo, @target, @state, @success, @error, @errorAt, @failures, @retryAt, @retryParams, @job, @summary, @now)
     ON CONFLICT (repo, target) DO UPDATE SET
       state = excluded.state,
       last_success_at = COALESCE(excluded.last_success_at, last_success_at),
       last_error = CASE WHEN excluded.state = 'ok' THEN last_error ELSE excluded.last_error END,
       last_error_at = CASE WHEN excluded.state = 'ok' THEN last_error_at ELSE excluded.last_error_at END,
       failures = CASE WHEN excluded.state = 'failed' THEN failures + 1 ELSE 0 END,
       next_retry_at = excluded.next_retry_at,
       retry_params = excluded.retry_params,
       last_job = excluded.last_job,
       summary = excluded.summary,
       updated_at = excluded.updated_at`,
  ).run({
    repo: o.repo,
    target: o.target,
    state: o.state,
    success: ok ? now : null,
    error: ok ? null : (o.error ?? o.summary),
    errorAt: ok ? null : now,
    failures: o.state === 'failed' ? 1 : 0,
    retryAt: o.retryAt ? o.retryAt.toISOString() : null,
    retryParams: o.retryParams ? JSON.stringify(o.retryParams) : null,
    job: o.job,
    summary: o.summary,
    now,
  });
  return getMirrorStatus(db, o.repo, o.target) as MirrorStatus;
}

export function getMirrorStatus(db: Database.Database, repo: string, target: string): MirrorStatus | null {
  return (prepared(db, `SELECT * FROM mirror_status WHERE repo = ? AND target = ?`).get(repo, target) as MirrorStatus | undefined) ?? null;
}

export function listMirrorStatus(db: Database.Database, repo: string): MirrorStatus[] {
  return (prepared(db, `SELECT * FROM mirror_status WHERE repo = ? ORDER BY target`).all(repo) as (MirrorStatus & { retry_params?: unknown })[]).map(
    ({ retry_params: _p, ...row }) => row,
  );
}

/** Failed targets whose retry is due; each is cleared so that it is queued once. */
export function takeDueRetries(db: Database.Database, now: Date): { repo: string; target: string; params: JobParams }[] {
  return db.transaction(() => {
    const rows = db
      .prepare(`SELECT repo, target, retry_params FROM mirror_status WHERE state = 'failed' AND next_retry_at IS NOT NULL AND next_retry_at <= ?`)
      .all(now.toISOString()) as { repo: string; target: string; retry_params: string | null }[];
    const clear = prepared(db, `UPDATE mirror_status SET next_retry_at = NULL WHERE repo = ? AND target = ?`);
    for (const r of rows) clear.run(r.repo, r.target);
    return rows.map((r) => ({ repo: r.repo, target: r.target, params: r.retry_params ? (JSON.parse(r.retry_params) as JobParams) : {} }));
  }).immediate(); // it reads then writes: the write lock first (db.ts tx)
}

/** The earliest pending retry, for the scheduler's timer. */
export function nextRetryAt(db: Database.Database): Date | null {
  const row = prepared(db, `SELECT MIN(next_retry_at) AS at FROM mirror_status WHERE state = 'failed' AND next_retry_at IS NOT NULL`).get() as { at: string | null };
  return row.at ? new Date(row.at) : null;
}

/** One repo's mirror status, as a mirror run sees it: what it reads and records, and no more. */
export interface MirrorBook {
  get(target: string): MirrorStatus | null;
  record(o: Omit<MirrorOutcome, 'repo'>): MirrorStatus;
}

export function mirrorBook(db: Database.Database, repo: string): MirrorBook {
  return {
    get: (target) => getMirrorStatus(db, repo, target),
    record: (o) => recordMirrorOutcome(db, { ...o, repo }),
  };
}
