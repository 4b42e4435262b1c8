import { nowIso } from '../lib/time.js';
import type { Db } from './db.js';
import type { ReleaseRow, ReleaseState } from './types.js';

/**
 * Table `releases`: one row per release folder. The states and their moves are in
 * release-state.ts; release-ledger.ts is the one writer that checks them.
 */
export function putRelease(db: Db, r: Omit<ReleaseRow, 'created_at'>): void {
  db.sql(
    `INSERT INTO releases (repo, id, sha, job_id, state, created_at) VALUES (@repo, @id, @sha, @job_id, @state, @now)
     ON CONFLICT (repo, id) DO UPDATE SET state = excluded.state`,
  ).run({ ...r, now: nowIso() });
}

export function setReleasePrevious(db: Db, repo: string, id: string, previous: string | null): void {
  db.sql(`UPDATE releases SET previous = ? WHERE repo = ? AND id = ?`).run(previous, repo, id);
}

export function setReleaseState(db: Db, repo: string, id: string, state: ReleaseState): void {
  db.sql(`UPDATE releases SET state = ? WHERE repo = ? AND id = ?`).run(state, repo, id);
}

export function getRelease(db: Db, repo: string, id: string): ReleaseRow | null {
  return (db.sql(`SELECT * FROM releases WHERE repo = ? AND id = ?`).get(repo, id) as ReleaseRow | undefined) ?? null;
}

/** Newest first. */
export function listReleases(db: Db, repo: string): ReleaseRow[] {
  return db.sql(`SELECT * FROM releases WHERE repo = ? ORDER BY created_at DESC, id DESC`).all(repo) as ReleaseRow[];
}

export function deleteRelease(db: Db, repo: string, id: string): void {
  db.sql(`DELETE FROM releases WHERE repo = ? AND id = ?`).run(repo, id);
}
