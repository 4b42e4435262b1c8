import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { processStartTime } from '../lib/proc.js';
import { ensurePrivateDir, ensurePrivateFile } from '../lib/private-fs.js';
import { migrate } from './migrations.js';
import { Db } from './db.js';
import * as deliveries from './deliveries.js';
import * as jobs from './jobs.js';
import * as logs from './job-logs.js';
import * as bad from './bad-commits.js';
import * as releases from './releases.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';
import type { JobOwner } from './jobs.js';
import type { BadCommit, Delivery, DeliveryRecord, EnqueueInput, IgnoredJobInput, Job, JobState, LogLine, ReleaseRow, ReleaseState } from './types.js';

export * from './types.js';
export { paramsKey } from './jobs.js';

/**
 * The SQLite file under data_dir: deliveries, jobs, job logs, releases, bad commits, mirror
 * status. The SQL is in one module per table (deliveries.ts, jobs.ts, job-logs.ts,
 * releases.ts, bad-commits.ts, mirror-status.ts); this class opens the file and offers them
 * with the events the server listens to: `delivery` ({ id, status_code }), `job` (id) and
 * `log` (LogLine), each emitted after its commit. `queue` is the job queue (job-queue.ts).
 *
 * WAL mode, so the CLI can read while the server writes. `synchronous = NORMAL`: in WAL mode
 * a commit survives a crash of autopull (kill -9) but not always a power failure or an OS
 * crash, which may roll back the last commits before the WAL was synced (the file itself is
 * never corrupted). Writes someone was told about (a delivery that queued jobs, with them, a
 * job's claim, end or requeue) use `Db.durable`, which syncs the WAL before the answer:
 * synchronous = FULL for those. Job log lines stay NORMAL: a build may write thousands, and a
 * power cut losing the last of them loses nothing anyone relies on. Cost measured by
 * `node --import tsx bench/store.ts` (docs/BENCHMARKS.md).
 */
export class Store extends EventEmitter {
  readonly db: Database.Database;
  private readonly d: Db;
  readonly queue: SqliteJobQueue;

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
    this.d = new Db(this.db);
    this.queue = new SqliteJobQueue(this.d, { changed: (id) => this.emit('job', id) });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- deliveries -------------------------------------------------------------------

  /**
   * Records a delivery, queues its jobs and lists its ignored ones (deleted refs) in one
   * durable transaction; returns the job ids, queued first.
   */
  recordDelivery(d: DeliveryRecord, enqueue: Omit<EnqueueInput, 'trigger' | 'deliveries'>[], ignored: IgnoredJobInput[] = []): { id: number; jobs: number[] } {
    const write = () => {
      const id = deliveries.insertDelivery(this.d, d);
      const ids = enqueue.map((e) => jobs.enqueueJob(this.d, { ...e, trigger: 'webhook', deliveries: [id] }).id);
      for (const i of ignored) ids.push(jobs.insertIgnoredJob(this.d, i, id));
      return { id, jobs: ids };
    };
    // Durable only when it queues work (a 202 promised a deploy): a flood of refused deliveries
    // must not cost an fsync each on the webhook path.
    const out = enqueue.length > 0 ? this.d.durable(write) : this.d.tx(write);
    for (const job of out.jobs) this.emit('job', job);
    this.emit('delivery', { id: out.id, status_code: d.status_code });
    return out;
  }

  isDuplicate(provider: string, deliveryId: string, repos: readonly string[]): boolean {
    return deliveries.isDuplicate(this.d, provider, deliveryId, repos);
  }

  listDeliveries(opts: { repo?: string; limit?: number } = {}): Delivery[] {
    return deliveries.listDeliveries(this.d, opts);
  }

  getDelivery(id: number): Delivery | null {
    return deliveries.getDelivery(this.d, id);
  }

  // ---- jobs (synchronous forms of the queue's calls, for the CLI and tests) ----------

  enqueue(input: EnqueueInput): { id: number; coalesced: boolean } {
    const out = this.d.durable(() => jobs.enqueueJob(this.d, input));
    this.emit('job', out.id);
    return out;
  }

  /** Claims without a lease: only the owner's death frees the job (`queue.claim` leases). */
  claim(repo: string, ownerPid: number, ownerStart: string | null = processStartTime(ownerPid), only: number | null = null): Job | null {
    const id = jobs.claimJob(this.d, repo, { pid: ownerPid, start: ownerStart }, null, only);
    return id === null ? null : this.getJob(id);
  }

  updateJob(id: number, fields: Partial<Pick<Job, 'target_sha' | 'release' | 'child_pid' | 'reason'>>): void {
    jobs.updateJob(this.d, id, fields);
  }

  /** Ends a job whoever holds it; `failure` is its code (lib/errors.ts JOB_FAILURES). */
  finishJob(id: number, state: jobs.FinalJobState, reason: string | null, failure: string | null = null): void {
    this.d.durable(() => jobs.finishJob(this.d, id, state, reason, failure));
    this.emit('job', id);
  }

  getJob(id: number): Job | null {
    return jobs.getJob(this.d, id);
  }

  listJobs(opts: { repo?: string; limit?: number; states?: JobState[] } = {}): Job[] {
    return jobs.listJobs(this.d, opts);
  }

  /** A repo's running and queued jobs (through the partial indexes), in no particular order. */
  activeJobs(repo: string): Job[] {
    return jobs.activeJobs(this.d, repo);
  }

  reposWithQueuedJobs(): string[] {
    return jobs.reposWithQueuedJobs(this.d);
  }

  /** Crash recovery (see JobQueue.recover), with the process-liveness check of 0.1.0. */
  recoverInterrupted(isAlive: (pid: number, start: string | null) => boolean): Job[] {
    const stale = this.d.durable(() => {
      const found = jobs.staleJobs(this.d, (o: JobOwner) => isAlive(o.pid, o.start), Date.now());
      for (const job of found) jobs.interruptAndRequeue(this.d, job, `autopull stopped while this job ran (pid ${job.owner_pid ?? '?'}); queued again`);
      return found;
    }, true);
    for (const job of stale) this.emit('job', job.id);
    return stale;
  }

  // ---- logs -------------------------------------------------------------------------

  appendLog(jobId: number, stream: string, line: string): LogLine {
    const entry = logs.appendLog(this.d, jobId, stream, line);
    this.emit('log', entry);
    return entry;
  }

  logsAfter(jobId: number, afterSeq = 0, limit = 10_000): LogLine[] {
    return logs.logsAfter(this.d, jobId, afterSeq, limit);
  }

  // ---- bad commits ------------------------------------------------------------------

  markBad(repo: string, sha: string, reason: string, jobId: number | null): void {
    bad.markBad(this.d, repo, sha, reason, jobId);
  }

  getBad(repo: string, sha: string): BadCommit | null {
    return bad.getBad(this.d, repo, sha);
  }

  clearBad(repo: string, sha: string): void {
    bad.clearBad(this.d, repo, sha);
  }

  listBad(repo: string): BadCommit[] {
    return bad.listBad(this.d, repo);
  }

  // ---- releases ---------------------------------------------------------------------

  putRelease(r: Omit<ReleaseRow, 'created_at'>): void {
    releases.putRelease(this.d, r);
  }

  setReleasePrevious(repo: string, id: string, previous: string | null): void {
    releases.setReleasePrevious(this.d, repo, id, previous);
  }

  setReleaseState(repo: string, id: string, state: ReleaseState): void {
    releases.setReleaseState(this.d, repo, id, state);
  }

  getRelease(repo: string, id: string): ReleaseRow | null {
    return releases.getRelease(this.d, repo, id);
  }

  listReleases(repo: string): ReleaseRow[] {
    return releases.listReleases(this.d, repo);
  }

  deleteRelease(repo: string, id: string): void {
    releases.deleteRelease(this.d, repo, id);
  }

  /** Runs `fn` in one transaction (several calls read or written as one). */
  transaction<T>(fn: () => T): T {
    return this.d.tx(fn);
  }

  // ---- for the metrics (metrics/metrics.ts) ------------------------------------------

  /** A delivery's sender, answer and arrival, without its headers and body. */
  deliveryMeta(id: number): { provider: string | null; status_code: number; received_at: string } | null {
    return deliveries.deliveryMeta(this.d, id);
  }

  /** When the earliest delivery that a job covers arrived (ISO time), or null when no delivery queued it. */
  firstDeliveryAt(jobId: number): string | null {
    return deliveries.firstDeliveryAt(this.d, jobId);
  }

  /** The push-to-live time of the repo's last deploy queued by a delivery (the dashboard shows it), or null. */
  lastPushToLive(repo: string): { job: number; seconds: number } | null {
    return deliveries.lastPushToLive(this.d, repo);
  }
}
