import type Database from 'better-sqlite3';

/**
 * Migration 6: one partial index per class of delivery (accepted: 2xx; rejected: the rest),
 * on (id, received_at, status_code): it covers retention's queries (retention.ts), which find
 * a class's rows past their count or age in it, without reading the table (whose rows carry
 * the bodies) from id 0. The WHERE of each is the text retention.ts queries with (a partial
 * index serves only a query that says the same). And the queued and running jobs, whose
 * deliveries retention keeps, without a scan of every job. Building them reads the tables
 * once, at the upgrade.
 */
export function up(db: Database.Database): void {
  db.exec(`CREATE INDEX deliveries_accepted ON deliveries (id, received_at, status_code) WHERE status_code BETWEEN 200 AND 299;
CREATE INDEX deliveries_rejected ON deliveries (id, received_at, status_code) WHERE NOT (status_code BETWEEN 200 AND 299);
CREATE INDEX jobs_active ON jobs (id) WHERE state IN ('queued', 'running');`);
}
