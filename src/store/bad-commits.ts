import { nowIso } from '../lib/time.js';
import type { Db } from './db.js';
import type { BadCommit } from './types.js';

/**
 * Table `bad_commits`: a commit that failed its health check or probation (or was rolled back
 * from) is not deployed again automatically; `autopull deploy --force` or `unmark` clears it.
 */
export function markBad(db: Db, repo: string, sha: string, reason: string, jobId: number | null): void {
  db.sql(
    `INSERT INTO bad_commits (repo, sha, reason, job_id, marked_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (repo, sha) DO UPDATE SET reason = excluded.reason, job_id = excluded.job_id, marked_at = excluded.marked_at`,
  ).run(repo, sha, reason, jobId, nowIso());
}

export function getBad(db: Db, repo: string, sha: string): BadCommit | null {
  return (db.sql(`SELECT * FROM bad_commits WHERE repo = ? AND sha = ?`).get(repo, sha) as BadCommit | undefined) ?? null;
}

export function clearBad(db: Db, repo: string, sha: string): void {
  db.sql(`DELETE FROM bad_commits WHERE repo = ? AND sha = ?`).run(repo, sha);
}

export function listBad(db: Db, repo: string): BadCommit[] {
  return db.sql(`SELECT * FROM bad_commits WHERE repo = ? ORDER BY marked_at DESC`).all(repo) as BadCommit[];
}
