import type Database from 'better-sqlite3';

/**
 * Migration 3: the job/delivery relation is stored once, in job_deliveries. 0.1.0 also kept
 * it as JSON in deliveries.jobs; links only that copy has are carried over, then it goes.
 */
export function up(db: Database.Database): void {
  db.exec(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery)
    SELECT CAST(j.value AS INTEGER), d.id FROM deliveries d, json_each(d.jobs) j
    WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.id = CAST(j.value AS INTEGER))`);
  db.exec(`ALTER TABLE deliveries DROP COLUMN jobs`);
  db.exec(`CREATE INDEX IF NOT EXISTS job_deliveries_by_delivery ON job_deliveries (delivery)`);
}
