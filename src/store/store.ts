import { errorMessage } from '../lib/errors.js';
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
import { LaterWriter, type Pending } from './later-writer.js';
import { prune, type Pruned, type RetentionPolicy } from './prune.js';
import { Unconfirmed } from './unconfirmed.js';
import type { JobOwner } from './jobs.js';
import type { BadCommit, Delivery, DeliveryRecord, EnqueueInput, IgnoredJobInput, Job, JobState, LogLine, ReleaseRow, ReleaseState } from './types.js';

export * from './types.js';

/** What the `delivery` event carries, once the delivery is written. */
export interface DeliveryEvent {
  id: number;
  status_code: number;
  provider: string | null;
}

/**
 * Stores with deliveries that may be pending. A process that exits at once (process.exit: a
 * second SIGTERM while stopping, the drain timer) runs no setImmediate and no close; the
 * pending rows, already answered, are written on 'exit' (SQLite here is synchronous): the
 * writer thread is stopped first, and the batches it had not finished are written here.
 */
const openStores = new Set<Store>();
let exitHook = false;
function flushOnExit(): void {
  for (const s of openStores) {
    try {
      s.flushDeliveries(true);
    } catch {
      // closed meanwhile: nothing to write
    }
  }
}

export { paramsKey } from './jobs.js';

/**
 * The SQLite file under data_dir: deliveries, jobs, job logs, releases, bad commits, mirror
 * status. The SQL is in one module per table (deliveries.ts, jobs.ts, job-logs.ts,
 * releases.ts, bad-commits.ts, mirror-status.ts); this class opens the file and offers them
 * with the events the server listens to: `delivery` (DeliveryEvent), `job` (id) and
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
  private readonly raw: Database.Database;
  private readonly d: Db;
  readonly queue: SqliteJobQueue;
  /** Deliveries answered and not yet handed to the writer (recordDeliveryLater), oldest first. */
  private pending: Pending[] = [];
  private flushing = false;
  /** The thread that writes them, started with the first batch (a CLI command never starts it). */
  private writer: LaterWriter | null = null;
  private readonly unconfirmed = new Unconfirmed();

  constructor(readonly file: string) {
    super();
    ensurePrivateDir(dirname(file));
    // Owner-only before SQLite opens it: SQLite gives -wal and -shm the database file's mode.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) ensurePrivateFile(f, f === file);
    this.raw = new Database(file);
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('busy_timeout = 5000');
    this.raw.pragma('foreign_keys = ON');
    migrate(this.raw);
    this.d = new Db(this.raw);
    this.queue = new SqliteJobQueue(this.d, { changed: (id) => this.emit('job', id) });
    openStores.add(this);
    if (!exitHook) process.on('exit', flushOnExit);
    exitHook = true;
  }

  /** The connection, for the modules that run their own SQL: deliveries answered before are written first. */
  get db(): Database.Database {
    this.flushDeliveries();
    return this.raw;
  }

  close(): void {
    if (!this.raw.open) return;
    this.flushDeliveries(true);
    openStores.delete(this);
    this.raw.close();
  }

  // ---- deliveries -------------------------------------------------------------------

  /**
   * Records a delivery, queues its jobs and lists its ignored ones (deleted refs) in one
   * durable transaction; returns the job ids, queued first. Deliveries recorded later
   * (recordDeliveryLater) and not written yet are written first, in the same transaction.
   */
  recordDelivery(d: DeliveryRecord, enqueue: Omit<EnqueueInput, 'trigger' | 'deliveries'>[], ignored: IgnoredJobInput[] = []): { id: number; jobs: number[] } {
    // The batches the writer thread holds go first: ids follow arrival, and this write needs the lock anyway.
    this.settle();
    const earlier = this.takePending();
    let earlierIds: number[] = [];
    const write = () => {
      earlierIds = earlier.map((p) => deliveries.insertDelivery(this.d, p.record));
      const id = deliveries.insertDelivery(this.d, d);
      const ids = enqueue.map((e) => jobs.enqueueJob(this.d, { ...e, trigger: 'webhook', deliveries: [id] }).id);
      for (const i of ignored) ids.push(jobs.insertIgnoredJob(this.d, i, id));
      return { id, jobs: ids };
    };
    let out: { id: number; jobs: number[] };
    try {
      // Durable only when it queues work (a 202 promised a deploy): a flood of refused deliveries
      // must not cost an fsync each on the webhook path.
      out = enqueue.length > 0 ? this.d.durable(write) : this.d.tx(write);
    } catch (err) {
      if (earlier.length === 0) throw err;
      // One of the earlier rows may be what failed: each is written alone, then this one.
      this.insertEach(earlier);
      return this.recordDelivery(d, enqueue, ignored);
    }
    this.written(earlier, earlierIds);
    for (const job of out.jobs) this.emit('job', job);
    this.emit('delivery', { id: out.id, status_code: d.status_code, provider: d.provider } satisfies DeliveryEvent);
    return out;
  }

  /**
   * Records a delivery whose answer promises nothing (it queues no job and lists none: a
   * refusal, an untracked ref, a ping) without holding up that answer: the deliveries of a turn
   * of the event loop go, once its I/O is done (setImmediate), to the writer thread
   * (later-writer.ts), which writes them in one transaction. Every read here (and `db`) and
   * every delivery with jobs first waits for those and writes the others. Written in the order
   * recorded; the `delivery` event follows the write; `onError` hears of a write that failed.
   */
  recordDeliveryLater(d: DeliveryRecord, onError: (err: unknown, count: number) => void): void {
    this.pending.push({ record: d, onError });
    this.unconfirmed.add(d);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.handOver());
  }

  private handOver(): void {
    this.flushing = false;
    if (!this.raw.open || this.pending.length === 0) return;
    this.writer ??= new LaterWriter(this.file, {
      written: (rows, ids) => this.written(rows, ids),
      failed: (rows, err) => this.failed(rows, err),
      writeHere: (rows) => this.writeHere(rows),
    });
    // A thread behind by MAX_BATCHES_OUT is waited for first (what it holds, a kill -9 loses).
    this.writer.makeRoom();
    if (this.writer.closed) this.flushDeliveries();
    else this.writer.send(this.takePending());
  }

  /**
   * Writes the deliveries recorded later and not written yet: waits for those handed to the
   * writer, writes the others here in one transaction. Inside a transaction it does not wait
   * (the writer could need the lock this connection holds). `stopWriter` (close, exit) ends
   * the writer thread first: what it had not written is written here.
   */
  flushDeliveries(stopWriter = false): void {
    this.flushing = false;
    if (stopWriter) this.writer?.close();
    else this.settle();
    this.writeHere(this.takePending());
  }

  /** One retention pass (prune.ts): on the writer thread when it runs (a flood started it), else here; `signal` stops it. */
  prune(policy: RetentionPolicy, now: Date, signal: AbortSignal): Promise<Pruned> {
    if (this.writer && !this.writer.closed) return this.writer.prune(policy, now, signal);
    return prune(this.db, policy, now, { shouldStop: () => signal.aborted || !this.raw.open });
  }

  /** Waits for the writer thread to write what it was handed (later-writer.ts settle). */
  private settle(): void {
    if (!this.raw.inTransaction) this.writer?.settle();
  }

  private writeHere(batch: Pending[]): void {
    if (batch.length === 0) return;
    let ids: number[];
    try {
      ids = this.d.tx(() => batch.map((p) => deliveries.insertDelivery(this.d, p.record)));
    } catch (err) {
      if (batch.length === 1) this.failed(batch, err);
      else this.insertEach(batch); // a row that cannot be written loses only itself
      return;
    }
    this.written(batch, ids);
  }

  /** Writes each row in a transaction of its own (after its batch failed), in order; reports each failure. */
  private insertEach(batch: Pending[]): void {
    const done: Pending[] = [];
    const ids: number[] = [];
    for (const p of batch) {
      try {
        ids.push(this.d.tx(() => deliveries.insertDelivery(this.d, p.record)));
        done.push(p);
      } catch (err) {
        this.failed([p], err);
      }
    }
    this.written(done, ids);
  }

  private takePending(): Pending[] {
    const batch = this.pending;
    if (batch.length > 0) this.pending = [];
    return batch;
  }

  /**
   * Tells the listeners (metrics, the live feed, retention) of rows now written. A listener's
   * throw must not undo what was answered: from a setImmediate it would end the process, so it
   * is reported as a process warning instead.
   */
  private written(batch: Pending[], ids: number[]): void {
    this.unconfirmed.settle(batch.map((p) => p.record));
    batch.forEach((p, i) => {
      try {
        this.emit('delivery', { id: ids[i] as number, status_code: p.record.status_code, provider: p.record.provider } satisfies DeliveryEvent);
      } catch (err) {
        process.emitWarning(`a listener of the delivery event threw: ${errorMessage(err)}`);
      }
    });
  }

  /** Tells each distinct listener of rows that could not be written, once. */
  private failed(batch: Pending[], err: unknown): void {
    this.unconfirmed.settle(batch.map((p) => p.record));
    for (const onError of new Set(batch.map((p) => p.onError))) onError(err, batch.length);
  }

  isDuplicate(provider: string, deliveryId: string, repos: readonly string[]): boolean {
    return this.unconfirmed.accepted(provider, deliveryId, repos) || deliveries.isDuplicate(this.d, provider, deliveryId, repos);
  }

  listDeliveries(opts: { repo?: string; limit?: number } = {}): Delivery[] {
    this.flushDeliveries();
    return deliveries.listDeliveries(this.d, opts);
  }

  getDelivery(id: number): Delivery | null {
    this.flushDeliveries();
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
    this.flushDeliveries();
    return this.d.tx(fn);
  }

  // ---- for the metrics (metrics/metrics.ts) ------------------------------------------

  /** A delivery's sender, answer and arrival, without its headers and body. */
  deliveryMeta(id: number): { provider: string | null; status_code: number; received_at: string } | null {
    this.flushDeliveries();
    return deliveries.deliveryMeta(this.d, id);
  }

  /** When the earliest delivery that a job covers arrived (ISO time), or null when no delivery queued it. */
  firstDeliveryAt(jobId: number): string | null {
    this.flushDeliveries();
    return deliveries.firstDeliveryAt(this.d, jobId);
  }

  /** The push-to-live time of the repo's last deploy queued by a delivery (the dashboard shows it), or null. */
  lastPushToLive(repo: string): { job: number; seconds: number } | null {
    return deliveries.lastPushToLive(this.d, repo);
  }
}
