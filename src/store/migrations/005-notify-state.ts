import type Database from 'better-sqlite3';

/**
 * Migration 5: the last state each notification track was in (store/notify-state.ts), so a
 * restart of autopull neither repeats a failure message nor misses a recovery.
 */
export function up(db: Database.Database): void {
  db.exec(`CREATE TABLE notify_state (
    repo TEXT NOT NULL,
    track TEXT NOT NULL,
    state TEXT NOT NULL,
    since TEXT NOT NULL,
    jobs INTEGER NOT NULL,
    last_job INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (repo, track)
  )`);
}
