import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { nowIso } from '../lib/time.js';
import { processStartTime } from '../lib/proc.js';
import { ensurePrivateDir, ensurePrivateFile } from '../lib/private-fs.js';
import { createMirrorStatusTable } from './mirror-status.js';

/**
 * The SQLite file under data_dir: deliveries, jobs, job logs, releases. SQL lives here and
 * nowhere else. WAL mode, so the CLI can read while the server writes.
 *
 * Invariants kept by the schema itself (so they hold across processes, e.g. `autopull
 * deploy` in-process while nothing else runs): at most one queued job per (repo, kind, params) and
 * at most one running job per repo.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'ignored';
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'skipped', 'interrupted', 'ignored'];

/** Whether a job state is final (the job will not run again). */
export function isFinal(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}
export type JobKind = 'deploy' | 'rollback' | 'mirror';
export type Trigger = 'webhook' | 'manual' | 'recovery' | 'poll' | 'retry';
/** What a job carries beyond its ref: a rollback's target, a mirror target override, or the targets a retry is for. */
export interface JobParams {
  /** rollback: the release to switch to. */
  to?: string;
  owner?: string;
  name?: string;
  /** Configured mirror urls to push to (a retry); all when absent. */
  targets?: string[];
}

export interface Job {
  id: number;
  repo: string;
  kind: JobKind;
  ref: string | null;
  hint_sha: string | null;
  target_sha: string | null;
  force: boolean;
  state: JobState;
  reason: string | null;
  trigger: Trigger;
  release: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  owner_pid: number | null;
  /** The owner's start time (see lib/proc.ts): a reused pid is not the owner. */
  owner_start: string | null;
  child_pid: number | null;
  retry_of: number | null;
  /** Kind-specific parameters (rollback: `{ to }`; mirror: override or retry targets). */
  params: JobParams | null;
  deliveries: number[];
}

export interface DeliveryRecord {
  delivery_id: string;
  provider: string | null;
  event: string | null;
  repo: string | null;
  received_at: string;
  remote_addr: string;
  status_code: number;
  outcome: string;
  message: string;
  headers: Record<string, string>;
  body: Buffer;
  body_truncated: boolean;
  /** The ledger row this one re-ran (`POST /api/deliveries/:id/redeliver`), else null. */
  redelivery_of?: number | null;
}

/** A tracked ref whose only change was a deletion: listed as an `ignored` job, never run. */
export interface IgnoredJobInput {
  repo: string;
  ref: string;
  reason: string;
}

export interface Delivery extends Omit<DeliveryRecord, 'headers' | 'body' | 'body_truncated' | 'redelivery_of'> {
  id: number;
  redelivery_of: number | null;
  headers: Record<string, string>;
  body: Buffer;
  body_truncated: boolean;
  jobs: number[];
}

export interface LogLine {
  job_id: number;
  seq: number;
  ts: string;
  stream: string;
  line: string;
}

/** building → ready → switching (current points at it, the gate runs) → live; or failed. */
export type ReleaseState = 'building' | 'ready' | 'switching' | 'live' | 'failed';
export interface ReleaseRow {
  repo: string;
  id: string;
  sha: string;
  job_id: number | null;
  state: ReleaseState;
  created_at: string;
  /** The release that was live when this one's go-live began: where a failed gate returns. */
  previous?: string | null;
}

export interface EnqueueInput {
  repo: string;
  kind?: JobKind;
  params?: JobParams | null;
  ref: string | null;
  hintSha: string | null;
  trigger: Trigger;
  deliveries?: number[];
  force?: boolean;
  retryOf?: number;
  /**
   * How to merge into a queued job of the same kind: `newer` (a new push: its ref, hint and
   * force replace the queued ones) or `older` (work re-queued by recovery: the queued job is
   * newer, so only the deliveries are added).
   */
  merge?: 'newer' | 'older';
}

const SCHEMA = `
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

type Row = Record<string, unknown>;

function toJob(row: Row, deliveries: number[]): Job {
  return { ...(row as unknown as Job), force: row.force === 1, params: typeof row.params === 'string' ? (JSON.parse(row.params) as JobParams) : null, deliveries };
}

export interface BadCommit {
  repo: string;
  sha: string;
  reason: string;
  job_id: number | null;
  marked_at: string;
}

export class Store extends EventEmitter {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    super();
    ensurePrivateDir(dirname(file));
    // Owner-only before SQLite opens it: SQLite gives -wal and -shm the database file's mode.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) ensurePrivateFile(f, f === file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    migrateJobParams(this.db);
    createMirrorStatusTable(this.db);
    this.addColumnIfMissing('deliveries', 'redelivery_of', 'INTEGER');
    this.addColumnIfMissing('releases', 'previous', 'TEXT');
    this.addColumnIfMissing('jobs', 'owner_start', 'TEXT');
    this.db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')`).run();
  }

  /** For databases made by an earlier version: CREATE TABLE IF NOT EXISTS adds no columns. */
  private addColumnIfMissing(table: string, column: string, decl: string): void {
    const cols = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!cols.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- deliveries -------------------------------------------------------------------

  /**
   * Records a delivery, queues its jobs and lists its ignored ones (deleted refs) in one
   * transaction; returns the job ids, queued first.
   */
  recordDelivery(d: DeliveryRecord, enqueue: Omit<EnqueueInput, 'trigger' | 'deliveries'>[], ignored: IgnoredJobInput[] = []): { id: number; jobs: number[] } {
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO deliveries (delivery_id, provider, event, repo, received_at, remote_addr, status_code, outcome, message, headers, body, body_truncated, redelivery_of)
           VALUES (@delivery_id, @provider, @event, @repo, @received_at, @remote_addr, @status_code, @outcome, @message, @headers, @body, @body_truncated, @redelivery_of)`,
        )
        .run({ ...d, headers: JSON.stringify(d.headers), body_truncated: d.body_truncated ? 1 : 0, redelivery_of: d.redelivery_of ?? null });
      const id = Number(lastInsertRowid);
      const jobs = enqueue.map((e) => this.enqueue({ ...e, trigger: 'webhook', deliveries: [id] }).id);
      for (const i of ignored) jobs.push(this.recordIgnoredJob(i, id));
      if (jobs.length > 0) this.db.prepare(`UPDATE deliveries SET jobs = ? WHERE id = ?`).run(JSON.stringify(jobs), id);
      return { id, jobs };
    })();
  }

  /** A sender's delivery id counts as seen once it was accepted (2xx, not itself a duplicate). */
  isDuplicate(provider: string, deliveryId: string, repos: readonly string[]): boolean {
    // Per repo: a sender trusted by repo A must not be able to burn repo B's future ids.
    const stmt = this.db.prepare(
      `SELECT 1 FROM deliveries WHERE provider = ? AND delivery_id = ? AND status_code BETWEEN 200 AND 299 AND outcome != 'duplicate'
       AND (',' || COALESCE(repo, '') || ',') LIKE ('%,' || ? || ',%') LIMIT 1`,
    );
    return repos.some((repo) => stmt.get(provider, deliveryId, repo) !== undefined);
  }

  listDeliveries(opts: { repo?: string; limit?: number } = {}): Delivery[] {
    const rows = this.db
      .prepare(`SELECT * FROM deliveries WHERE (@repo IS NULL OR repo = @repo) ORDER BY id DESC LIMIT @limit`)
      .all({ repo: opts.repo ?? null, limit: opts.limit ?? 50 }) as Row[];
    return rows.map(toDelivery);
  }

  getDelivery(id: number): Delivery | null {
    const row = this.db.prepare(`SELECT * FROM deliveries WHERE id = ?`).get(id) as Row | undefined;
    return row ? toDelivery(row) : null;
  }

  // ---- jobs -------------------------------------------------------------------------

  /**
   * Latest wins: when the repo already has a queued job of this kind, that job takes the
   * newer ref/hint and the new deliveries (coalesced) instead of a second job being queued.
   */
  enqueue(input: EnqueueInput): { id: number; coalesced: boolean } {
    return this.db.transaction(() => {
      const now = nowIso();
      const kind = input.kind ?? 'deploy';
      const params = paramsKey(input.params);
      const queued = this.db
        .prepare(`SELECT id FROM jobs WHERE repo = ? AND kind = ? AND COALESCE(params, '') = ? AND state = 'queued'`)
        .get(input.repo, kind, params ?? '') as { id: number } | undefined;
      let id: number;
      if (queued) {
        id = queued.id;
        if (input.merge !== 'older') {
          this.db
            .prepare(`UPDATE jobs SET ref = COALESCE(@ref, ref), hint_sha = @hint, force = @force, params = COALESCE(@params, params), trigger = @trigger, updated_at = @now WHERE id = @id`)
            .run({ id, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, params, trigger: input.trigger, now });
        }
      } else {
        id = Number(
          this.db
            .prepare(
              `INSERT INTO jobs (repo, kind, params, ref, hint_sha, force, state, trigger, created_at, updated_at, retry_of)
               VALUES (@repo, @kind, @params, @ref, @hint, @force, 'queued', @trigger, @now, @now, @retryOf)`,
            )
            .run({ repo: input.repo, kind, params, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, trigger: input.trigger, now, retryOf: input.retryOf ?? null })
            .lastInsertRowid,
        );
      }
      const link = this.db.prepare(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery) VALUES (?, ?)`);
      for (const d of input.deliveries ?? []) link.run(id, d);
      this.emit('job', id);
      return { id, coalesced: queued !== undefined };
    })();
  }

  /** A job row born final in state `ignored` (a deleted ref): it shows in the job list and is never claimed. */
  recordIgnoredJob(input: IgnoredJobInput, delivery: number | null): number {
    const now = nowIso();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO jobs (repo, kind, ref, force, state, reason, trigger, created_at, updated_at, finished_at)
           VALUES (@repo, 'deploy', @ref, 0, 'ignored', @reason, 'webhook', @now, @now, @now)`,
        )
        .run({ repo: input.repo, ref: input.ref, reason: input.reason, now }).lastInsertRowid,
    );
    if (delivery !== null) this.db.prepare(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery) VALUES (?, ?)`).run(id, delivery);
    this.emit('job', id);
    return id;
  }

  /** Takes the repo's queued job when no job of the repo runs; null when there is none to take. */
  claim(repo: string, ownerPid: number, ownerStart: string | null = processStartTime(ownerPid)): Job | null {
    const id = this.db.transaction(() => {
      const running = this.db.prepare(`SELECT 1 FROM jobs WHERE repo = ? AND state = 'running'`).get(repo);
      if (running) return null;
      const next = this.db.prepare(`SELECT id FROM jobs WHERE repo = ? AND state = 'queued' ORDER BY id LIMIT 1`).get(repo) as { id: number } | undefined;
      if (!next) return null;
      const now = nowIso();
      this.db.prepare(`UPDATE jobs SET state = 'running', started_at = ?, updated_at = ?, owner_pid = ?, owner_start = ? WHERE id = ?`).run(now, now, ownerPid, ownerStart, next.id);
      return next.id;
    }).immediate();
    return id === null ? null : this.getJob(id);
  }

  updateJob(id: number, fields: Partial<Pick<Job, 'target_sha' | 'release' | 'child_pid' | 'reason'>>): void {
    const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')}, updated_at = @now WHERE id = @id`).run({ ...fields, id, now: nowIso() });
  }

  finishJob(id: number, state: Exclude<JobState, 'queued' | 'running'>, reason: string | null): void {
    const now = nowIso();
    this.db.prepare(`UPDATE jobs SET state = ?, reason = ?, finished_at = ?, updated_at = ?, child_pid = NULL WHERE id = ?`).run(state, reason, now, now, id);
    this.emit('job', id);
  }

  getJob(id: number): Job | null {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
    if (!row) return null;
    const deliveries = (this.db.prepare(`SELECT delivery FROM job_deliveries WHERE job_id = ? ORDER BY delivery`).all(id) as { delivery: number }[]).map((r) => r.delivery);
    return toJob(row, deliveries);
  }

  listJobs(opts: { repo?: string; limit?: number; states?: JobState[] } = {}): Job[] {
    const states = opts.states ?? null;
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE (@repo IS NULL OR repo = @repo) ${states ? `AND state IN (${states.map(() => '?').join(',')})` : ''} ORDER BY id DESC LIMIT @limit`,
      )
      .all(...(states ?? []), { repo: opts.repo ?? null, limit: opts.limit ?? 50 }) as Row[];
    return rows.map((r) => toJob(r, []));
  }

  reposWithQueuedJobs(): string[] {
    return (this.db.prepare(`SELECT DISTINCT repo FROM jobs WHERE state = 'queued'`).all() as { repo: string }[]).map((r) => r.repo);
  }

  /**
   * Crash recovery: a job left `running` by a process that is gone was interrupted. It is
   * marked so (a final state that says what happened) and its work queued again, merged
   * into the repo's queued job when there is one (that one is newer anyway).
   */
  recoverInterrupted(isAlive: (pid: number, start: string | null) => boolean): Job[] {
    const stale = (this.db.prepare(`SELECT * FROM jobs WHERE state = 'running'`).all() as Row[])
      .map((r) => toJob(r, []))
      .filter((j) => j.owner_pid === null || !isAlive(j.owner_pid, j.owner_start));
    for (const job of stale) {
      this.db.transaction(() => {
        const deliveries = this.getJob(job.id)?.deliveries ?? [];
        this.finishJob(job.id, 'interrupted', `autopull stopped while this job ran (pid ${job.owner_pid ?? '?'}); queued again`);
        this.enqueue({ repo: job.repo, kind: job.kind, params: job.params, ref: job.ref, hintSha: job.hint_sha, trigger: 'recovery', deliveries, force: job.force, retryOf: job.id, merge: 'older' });
      })();
    }
    return stale;
  }

  // ---- logs -------------------------------------------------------------------------

  appendLog(jobId: number, stream: string, line: string): LogLine {
    const ts = nowIso();
    const row = this.db
      .prepare(`INSERT INTO job_logs (job_id, seq, ts, stream, line) SELECT @job, COALESCE(MAX(seq), 0) + 1, @ts, @stream, @line FROM job_logs WHERE job_id = @job RETURNING seq`)
      .get({ job: jobId, ts, stream, line: line.slice(0, 8192) }) as { seq: number };
    const entry: LogLine = { job_id: jobId, seq: row.seq, ts, stream, line };
    this.emit('log', entry);
    return entry;
  }

  logsAfter(jobId: number, afterSeq = 0, limit = 10_000): LogLine[] {
    return this.db.prepare(`SELECT * FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(jobId, afterSeq, limit) as LogLine[];
  }

  // ---- bad commits ------------------------------------------------------------------

  /** A commit that failed in probation (or was rolled back from) is not deployed again automatically. */
  markBad(repo: string, sha: string, reason: string, jobId: number | null): void {
    this.db
      .prepare(`INSERT INTO bad_commits (repo, sha, reason, job_id, marked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, sha) DO UPDATE SET reason = excluded.reason, job_id = excluded.job_id, marked_at = excluded.marked_at`)
      .run(repo, sha, reason, jobId, nowIso());
  }

  getBad(repo: string, sha: string): BadCommit | null {
    return (this.db.prepare(`SELECT * FROM bad_commits WHERE repo = ? AND sha = ?`).get(repo, sha) as BadCommit | undefined) ?? null;
  }

  clearBad(repo: string, sha: string): void {
    this.db.prepare(`DELETE FROM bad_commits WHERE repo = ? AND sha = ?`).run(repo, sha);
  }

  listBad(repo: string): BadCommit[] {
    return this.db.prepare(`SELECT * FROM bad_commits WHERE repo = ? ORDER BY marked_at DESC`).all(repo) as BadCommit[];
  }

  // ---- releases ---------------------------------------------------------------------

  putRelease(r: Omit<ReleaseRow, 'created_at'>): void {
    this.db
      .prepare(
        `INSERT INTO releases (repo, id, sha, job_id, state, created_at) VALUES (@repo, @id, @sha, @job_id, @state, @now)
         ON CONFLICT (repo, id) DO UPDATE SET state = excluded.state`,
      )
      .run({ ...r, now: nowIso() });
  }

  setReleasePrevious(repo: string, id: string, previous: string | null): void {
    this.db.prepare(`UPDATE releases SET previous = ? WHERE repo = ? AND id = ?`).run(previous, repo, id);
  }

  setReleaseState(repo: string, id: string, state: ReleaseState): void {
    this.db.prepare(`UPDATE releases SET state = ? WHERE repo = ? AND id = ?`).run(state, repo, id);
  }

  getRelease(repo: string, id: string): ReleaseRow | null {
    return (this.db.prepare(`SELECT * FROM releases WHERE repo = ? AND id = ?`).get(repo, id) as ReleaseRow | undefined) ?? null;
  }

  listReleases(repo: string): ReleaseRow[] {
    return this.db.prepare(`SELECT * FROM releases WHERE repo = ? ORDER BY created_at DESC, id DESC`).all(repo) as ReleaseRow[];
  }

  deleteRelease(repo: string, id: string): void {
    this.db.prepare(`DELETE FROM releases WHERE repo = ? AND id = ?`).run(repo, id);
  }
}

/** Canonical JSON (sorted keys), so equal params compare equal in SQL; null for none. */
export function paramsKey(params: JobParams | null | undefined): string | null {
  if (!params) return null;
  const entries = Object.entries(params).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

/**
 * Databases made before jobs carried params get the column; the one-queued-job rule then
 * holds per (repo, kind, params), so a job with a target override never swallows another.
 */
function migrateJobParams(db: Database.Database): void {
  const cols = db.prepare(`PRAGMA table_info(jobs)`).all() as { name: string }[];
  if (!cols.some((c) => c.name === 'params')) db.exec(`ALTER TABLE jobs ADD COLUMN params TEXT`);
  db.exec(`DROP INDEX IF EXISTS one_queued_job;
CREATE UNIQUE INDEX IF NOT EXISTS one_queued_job_per_params ON jobs (repo, kind, COALESCE(params, '')) WHERE state = 'queued';`);
}

function toDelivery(row: Row): Delivery {
  return {
    ...(row as unknown as Delivery),
    headers: JSON.parse(row.headers as string) as Record<string, string>,
    body_truncated: row.body_truncated === 1,
    jobs: JSON.parse(row.jobs as string) as number[],
  };
}
