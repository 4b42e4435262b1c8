import type Database from 'better-sqlite3';

/**
 * Migration 4: a running job holds a lease (`lease_until`, ms since the epoch) that its owner
 * renews while it works; a job whose lease ran out may be taken over (job-queue.ts).
 * Rows from before have none: only their owner's death frees them, as before.
 */
export function up(db: Database.Database): void {
  db.exec(`ALTER TABLE jobs ADD COLUMN lease_until INTEGER`);
}
