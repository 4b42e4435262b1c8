import type Database from 'better-sqlite3';

/**
 * Migration 2: one meaning per release state (release-state.ts), and failure codes on jobs.
 *
 * 0.1.0's `ready` meant two things: "was live, now replaced" (known good) and, for a
 * supervised app stopped inside its health wait, "built, never checked". A `ready` release
 * that reached the switch (it has a `previous`), or whose job succeeded or is gone, was live:
 * `replaced`. Any other `ready` one never passed a health check: `built`, so rollback never
 * picks it.
 */
export function up(db: Database.Database): void {
  db.exec(`ALTER TABLE jobs ADD COLUMN failure TEXT`);
  db.exec(`UPDATE jobs SET failure = 'interrupted' WHERE state = 'interrupted'`);
  db.exec(`UPDATE releases SET state = CASE
      WHEN previous IS NOT NULL OR job_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = releases.job_id)
        OR EXISTS (SELECT 1 FROM jobs WHERE jobs.id = releases.job_id AND jobs.state = 'succeeded')
      THEN 'replaced' ELSE 'built' END
    WHERE state = 'ready'`);
}
