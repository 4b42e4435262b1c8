import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { nowIso } from '../lib/time.js';
import { processStartTime } from '../lib/proc.js';
import { ensurePrivateDir, ensurePrivateFile } from '../lib/private-fs.js';
import { migrate } from './migrations.js';
import type { BadCommit, Delivery, DeliveryRecord, EnqueueInput, IgnoredJobInput, Job, JobParams, JobState, LogLine, ReleaseRow, ReleaseState } from './types.js';

export * from './types.js';

/**
 * The SQLite file under data_dir: deliveries, jobs, job logs, releases. SQL lives here and
 * nowhere else. WAL mode, so the CLI can read while the server writes.
 *
 * Invariants kept by the schema itself (so they hold across processes, e.g. `autopull
 * deploy` in-process while nothing else runs): at most one queued job per (repo, kind, params) and
 * at most one running job per repo.
 */


type Row = Record<string, unknown>;

/** A delivery's columns and its job ids (job_deliveries is the one copy of that relation). */
const DELIVERY_COLUMNS = `*, (SELECT json_group_array(job_id) FROM (SELECT job_id FROM job_deliveries WHERE delivery = deliveries.id ORDER BY job_id)) AS jobs`;

function toJob(row: Row, deliveries: number[]): Job {
  return { ...(row as unknown as Job), force: row.force === 1, params: typeof row.params === 'string' ? (JSON.parse(row.params) as JobParams) : null, deliveries };
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
    migrate(this.db);
  }

  private statements = new Map<string, Database.Statement>();

  /** A statement prepared once per SQL text and kept for the life of the connection. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- deliveries -------------------------------------------------------------------

  /**
   * Records a delivery, queues its jobs and lists its ignored ones (deleted refs) in one
   * transaction; returns the job ids, queued first. Emits `delivery` ({ id, status_code })
   * after the commit (retention counts them).
   */
  recordDelivery(d: DeliveryRecord, enqueue: Omit<EnqueueInput, 'trigger' | 'deliveries'>[], ignored: IgnoredJobInput[] = []): { id: number; jobs: number[] } {
    const out = this.db.transaction(() => {
      const { lastInsertRowid } = this.sql(
          `INSERT INTO deliveries (delivery_id, provider, event, repo, received_at, remote_addr, status_code, outcome, message, headers, body, body_truncated, redelivery_of)
           VALUES (@delivery_id, @provider, @event, @repo, @received_at, @remote_addr, @status_code, @outcome, @message, @headers, @body, @body_truncated, @redelivery_of)`,
        )
        .run({ ...d, headers: JSON.stringify(d.headers), body_truncated: d.body_truncated ? 1 : 0, redelivery_of: d.redelivery_of ?? null });
      const id = Number(lastInsertRowid);
      const jobs = enqueue.map((e) => this.enqueue({ ...e, trigger: 'webhook', deliveries: [id] }).id);
      for (const i of ignored) jobs.push(this.recordIgnoredJob(i, id));
      return { id, jobs };
    })();
    this.emit('delivery', { id: out.id, status_code: d.status_code });
    return out;
  }

  /**
   * Whether a sender's delivery id was already accepted (2xx, not itself a duplicate) for
   * one of `repos`. The ledger's `repo` lists the repos that authenticated the delivery.
   */
  isDuplicate(provider: string, deliveryId: string, repos: readonly string[]): boolean {
    // Per repo: a sender trusted by repo A must not be able to burn repo B's future ids. An
    // exact match in the comma-separated list: LIKE would read `_` in a name as a wildcard.
    const stmt = this.sql(
      `SELECT 1 FROM deliveries WHERE provider = ? AND delivery_id = ? AND status_code BETWEEN 200 AND 299 AND outcome != 'duplicate'
       AND instr(',' || COALESCE(repo, '') || ',', ',' || ? || ',') > 0 LIMIT 1`,
    );
    return repos.some((repo) => stmt.get(provider, deliveryId, repo) !== undefined);
  }

  listDeliveries(opts: { repo?: string; limit?: number } = {}): Delivery[] {
    const rows = this.sql(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE (@repo IS NULL OR repo = @repo) ORDER BY id DESC LIMIT @limit`)
      .all({ repo: opts.repo ?? null, limit: opts.limit ?? 50 }) as Row[];
    return rows.map((r) => this.toDelivery(r));
  }

  getDelivery(id: number): Delivery | null {
    const row = this.sql(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`).get(id) as Row | undefined;
    return row ? this.toDelivery(row) : null;
  }

  /** A deliveries row read with its `jobs` column (json_group_array over job_deliveries). */
  private toDelivery(row: Row): Delivery {
    return { ...(row as unknown as Delivery), headers: JSON.parse(row.headers as string) as Record<string, string>, body_truncated: row.body_truncated === 1, jobs: JSON.parse(row.jobs as string) as number[] };
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
      const queued = this.sql(`SELECT id FROM jobs WHERE repo = ? AND kind = ? AND COALESCE(params, '') = ? AND state = 'queued'`)
        .get(input.repo, kind, params ?? '') as { id: number } | undefined;
      let id: number;
      if (queued) {
        id = queued.id;
        if (input.merge !== 'older') {
          this.sql(`UPDATE jobs SET ref = COALESCE(@ref, ref), hint_sha = @hint, force = @force, params = COALESCE(@params, params), trigger = @trigger, updated_at = @now WHERE id = @id`)
            .run({ id, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, params, trigger: input.trigger, now });
        }
      } else {
        id = Number(
          this.sql(
              `INSERT INTO jobs (repo, kind, params, ref, hint_sha, force, state, trigger, created_at, updated_at, retry_of)
               VALUES (@repo, @kind, @params, @ref, @hint, @force, 'queued', @trigger, @now, @now, @retryOf)`,
            )
            .run({ repo: input.repo, kind, params, ref: input.ref, hint: input.hintSha, force: input.force ? 1 : 0, trigger: input.trigger, now, retryOf: input.retryOf ?? null })
            .lastInsertRowid,
        );
      }
      const link = this.sql(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery) VALUES (?, ?)`);
      for (const d of input.deliveries ?? []) link.run(id, d);
      this.emit('job', id);
      return { id, coalesced: queued !== undefined };
    })();
  }

  /** A job row born final in state `ignored` (a deleted ref): it shows in the job list and is never claimed. */
  recordIgnoredJob(input: IgnoredJobInput, delivery: number | null): number {
    const now = nowIso();
    const id = Number(
      this.sql(
          `INSERT INTO jobs (repo, kind, ref, force, state, reason, trigger, created_at, updated_at, finished_at)
           VALUES (@repo, 'deploy', @ref, 0, 'ignored', @reason, 'webhook', @now, @now, @now)`,
        )
        .run({ repo: input.repo, ref: input.ref, reason: input.reason, now }).lastInsertRowid,
    );
    if (delivery !== null) this.sql(`INSERT OR IGNORE INTO job_deliveries (job_id, delivery) VALUES (?, ?)`).run(id, delivery);
    this.emit('job', id);
    return id;
  }

  /**
   * Takes the repo's queued job (only job `only` when given) when no job of the repo runs;
   * null when there is none to take.
   */
  claim(repo: string, ownerPid: number, ownerStart: string | null = processStartTime(ownerPid), only: number | null = null): Job | null {
    const id = this.db.transaction(() => {
      const running = this.sql(`SELECT 1 FROM jobs WHERE repo = ? AND state = 'running'`).get(repo);
      if (running) return null;
      const next = this.sql(`SELECT id FROM jobs WHERE repo = ? AND state = 'queued' AND (@only IS NULL OR id = @only) ORDER BY id LIMIT 1`).get(repo, { only }) as { id: number } | undefined;
      if (!next) return null;
      const now = nowIso();
      this.sql(`UPDATE jobs SET state = 'running', started_at = ?, updated_at = ?, owner_pid = ?, owner_start = ? WHERE id = ?`).run(now, now, ownerPid, ownerStart, next.id);
      return next.id;
    }).immediate();
    return id === null ? null : this.getJob(id);
  }

  updateJob(id: number, fields: Partial<Pick<Job, 'target_sha' | 'release' | 'child_pid' | 'reason'>>): void {
    const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
    if (sets.length === 0) return;
    this.sql(`UPDATE jobs SET ${sets.join(', ')}, updated_at = @now WHERE id = @id`).run({ ...fields, id, now: nowIso() });
  }

  /** Ends a job; `failure` is its code (lib/errors.ts JOB_FAILURES) when it did not do its work. */
  finishJob(id: number, state: Exclude<JobState, 'queued' | 'running'>, reason: string | null, failure: string | null = null): void {
    const now = nowIso();
    this.sql(`UPDATE jobs SET state = ?, reason = ?, failure = ?, finished_at = ?, updated_at = ?, child_pid = NULL WHERE id = ?`).run(state, reason, failure, now, now, id);
    this.emit('job', id);
  }

  getJob(id: number): Job | null {
    const row = this.sql(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
    if (!row) return null;
    const deliveries = (this.sql(`SELECT delivery FROM job_deliveries WHERE job_id = ? ORDER BY delivery`).all(id) as { delivery: number }[]).map((r) => r.delivery);
    return toJob(row, deliveries);
  }

  listJobs(opts: { repo?: string; limit?: number; states?: JobState[] } = {}): Job[] {
    const states = opts.states ?? null;
    const rows = this.sql(
        `SELECT * FROM jobs WHERE (@repo IS NULL OR repo = @repo) ${states ? `AND state IN (${states.map(() => '?').join(',')})` : ''} ORDER BY id DESC LIMIT @limit`,
      )
      .all(...(states ?? []), { repo: opts.repo ?? null, limit: opts.limit ?? 50 }) as Row[];
    return rows.map((r) => toJob(r, []));
  }

  reposWithQueuedJobs(): string[] {
    return (this.sql(`SELECT DISTINCT repo FROM jobs WHERE state = 'queued'`).all() as { repo: string }[]).map((r) => r.repo);
  }

  /**
   * Crash recovery: a job left `running` by a process that is gone was interrupted. It is
   * marked so (a final state that says what happened) and its work queued again, merged
   * into the repo's queued job when there is one (that one is newer anyway).
   */
  recoverInterrupted(isAlive: (pid: number, start: string | null) => boolean): Job[] {
    const stale = (this.sql(`SELECT * FROM jobs WHERE state = 'running'`).all() as Row[])
      .map((r) => toJob(r, []))
      .filter((j) => j.owner_pid === null || !isAlive(j.owner_pid, j.owner_start));
    for (const job of stale) {
      this.db.transaction(() => {
        const deliveries = this.getJob(job.id)?.deliveries ?? [];
        this.finishJob(job.id, 'interrupted', `autopull stopped while this job ran (pid ${job.owner_pid ?? '?'}); queued again`, 'interrupted');
        this.enqueue({ repo: job.repo, kind: job.kind, params: job.params, ref: job.ref, hintSha: job.hint_sha, trigger: 'recovery', deliveries, force: job.force, retryOf: job.id, merge: 'older' });
      })();
    }
    return stale;
  }

  // ---- logs -------------------------------------------------------------------------

  appendLog(jobId: number, stream: string, line: string): LogLine {
    const ts = nowIso();
    const row = this.sql(`INSERT INTO job_logs (job_id, seq, ts, stream, line) SELECT @job, COALESCE(MAX(seq), 0) + 1, @ts, @stream, @line FROM job_logs WHERE job_id = @job RETURNING seq`)
      .get({ job: jobId, ts, stream, line: line.slice(0, 8192) }) as { seq: number };
    const entry: LogLine = { job_id: jobId, seq: row.seq, ts, stream, line };
    this.emit('log', entry);
    return entry;
  }

  logsAfter(jobId: number, afterSeq = 0, limit = 10_000): LogLine[] {
    return this.sql(`SELECT * FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(jobId, afterSeq, limit) as LogLine[];
  }

  // ---- bad commits ------------------------------------------------------------------

  /** A commit that failed in probation (or was rolled back from) is not deployed again automatically. */
  markBad(repo: string, sha: string, reason: string, jobId: number | null): void {
    this.sql(`INSERT INTO bad_commits (repo, sha, reason, job_id, marked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, sha) DO UPDATE SET reason = excluded.reason, job_id = excluded.job_id, marked_at = excluded.marked_at`)
      .run(repo, sha, reason, jobId, nowIso());
  }

  getBad(repo: string, sha: string): BadCommit | null {
    return (this.sql(`SELECT * FROM bad_commits WHERE repo = ? AND sha = ?`).get(repo, sha) as BadCommit | undefined) ?? null;
  }

  clearBad(repo: string, sha: string): void {
    this.sql(`DELETE FROM bad_commits WHERE repo = ? AND sha = ?`).run(repo, sha);
  }

  listBad(repo: string): BadCommit[] {
    return this.sql(`SELECT * FROM bad_commits WHERE repo = ? ORDER BY marked_at DESC`).all(repo) as BadCommit[];
  }

  // ---- releases ---------------------------------------------------------------------

  putRelease(r: Omit<ReleaseRow, 'created_at'>): void {
    this.sql(
        `INSERT INTO releases (repo, id, sha, job_id, state, created_at) VALUES (@repo, @id, @sha, @job_id, @state, @now)
         ON CONFLICT (repo, id) DO UPDATE SET state = excluded.state`,
      )
      .run({ ...r, now: nowIso() });
  }

  setReleasePrevious(repo: string, id: string, previous: string | null): void {
    this.sql(`UPDATE releases SET previous = ? WHERE repo = ? AND id = ?`).run(previous, repo, id);
  }

  setReleaseState(repo: string, id: string, state: ReleaseState): void {
    this.sql(`UPDATE releases SET state = ? WHERE repo = ? AND id = ?`).run(state, repo, id);
  }

  getRelease(repo: string, id: string): ReleaseRow | null {
    return (this.sql(`SELECT * FROM releases WHERE repo = ? AND id = ?`).get(repo, id) as ReleaseRow | undefined) ?? null;
  }

  listReleases(repo: string): ReleaseRow[] {
    return this.sql(`SELECT * FROM releases WHERE repo = ? ORDER BY created_at DESC, id DESC`).all(repo) as ReleaseRow[];
  }

  deleteRelease(repo: string, id: string): void {
    this.sql(`DELETE FROM releases WHERE repo = ? AND id = ?`).run(repo, id);
  }
}

/** Canonical JSON (sorted keys), so equal params compare equal in SQL; null for none. */
export function paramsKey(params: JobParams | null | undefined): string | null {
  if (!params) return null;
  const entries = Object.entries(params).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

