import type Database from 'better-sqlite3';

/**
 * Migration 1: the schema of autopull 0.1.0. Databases made by 0.1.0 have user_version 0 and
 * already hold these tables, and earlier builds lacked some columns: every statement here is
 * safe to run over either (IF NOT EXISTS, columns added only when missing).
 */
export const SCHEMA_0_1_0 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  provider TEXT, event TEXT, repo TEXT,
  received_at TEXT NOT NULL,
  remote_addr TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  body_truncated INTEGER NOT NULL DEFAULT 0,
  jobs TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS deliveries_by_sender_id ON deliveries (provider, delivery_id);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'deploy',
  ref TEXT, hint_sha TEXT, target_sha TEXT,
  force INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  reason TEXT,
  trigger TEXT NOT NULL,
  release TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  started_at TEXT, finished_at TEXT,
  owner_pid INTEGER, child_pid INTEGER,
  retry_of INTEGER,
  params TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_running_job ON jobs (repo) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_by_repo ON jobs (repo, id);
CREATE TABLE IF NOT EXISTS job_deliveries (
  job_id INTEGER NOT NULL, delivery INTEGER NOT NULL,
  PRIMARY KEY (job_id, delivery)
);
CREATE TABLE IF NOT EXISTS job_logs (
  job_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  ts TEXT NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS bad_commits (
  repo TEXT NOT NULL, sha TEXT NOT NULL, reason TEXT NOT NULL,
  job_id INTEGER, marked_at TEXT NOT NULL,
  PRIMARY KEY (repo, sha)
);
CREATE TABLE IF NOT EXISTS releases (
  repo TEXT NOT NULL, id TEXT NOT NULL, sha TEXT NOT NULL,
  job_id INTEGER, state TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (repo, id)
);
`;

export function up(db: Database.Database): void {
  db.exec(SCHEMA_0_1_0);
  createMirrorStatusTable(db);
  addColumnIfMissing(db, 'jobs', 'params', 'TEXT');
  addColumnIfMissing(db, 'deliveries', 'redelivery_of', 'INTEGER');
  addColumnIfMissing(db, 'releases', 'previous', 'TEXT');
  addColumnIfMissing(db, 'jobs', 'owner_start', 'TEXT');
  // The one-queued-job rule holds per (repo, kind, params): a job with a target override never swallows another.
  db.exec(`DROP INDEX IF EXISTS one_queued_job;
CREATE UNIQUE INDEX IF NOT EXISTS one_queued_job_per_params ON jobs (repo, kind, COALESCE(params, '')) WHERE state = 'queued';`);
  db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')`).run();
}

function addColumnIfMissing(db: Database.Database, table: string, column: string, decl: string): void {
  const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
}

/** mirror_status as 0.1.0 made it (kept here: a released migration never changes with the code). */
function createMirrorStatusTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS mirror_status (
  repo TEXT NOT NULL, target TEXT NOT NULL,
  state TEXT NOT NULL,
  last_success_at TEXT, last_error TEXT, last_error_at TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  next_retry_at TEXT,
  retry_params TEXT,
  last_job INTEGER,
  summary TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (repo, target)
)`);
}
