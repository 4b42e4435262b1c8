import type { Db } from './db.js';
import { DEFAULT_LEASE_MS, type JobOutcome, type JobQueue } from './job-queue.js';
import { claimJob, enqueueJob, finishJob, getJob, interruptAndRequeue, listJobs, renewLease, reposWithQueuedJobs, staleJobs, type JobOwner } from './jobs.js';
import type { EnqueueInput, Job } from './types.js';

export interface SqliteQueueOptions {
  leaseMs?: number;
  /** The clock (ms), for leases; tests move it by hand. */
  now?: () => number;
  /** Called after each committed change of a job (the Store emits `job`). */
  changed?: (id: number) => void;
}

/**
 * The job queue on the SQLite file. Each call is one transaction; the schema keeps one
 * queued job per (repo, kind, params) and one running job per repo even across processes
 * (an in-process `autopull deploy` beside the server). Writes that a sender or a user was
 * told about are made durable first (`durable`: see store.ts on synchronous).
 */
export class SqliteJobQueue implements JobQueue {
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly changed: (id: number) => void;

  constructor(
    private readonly db: Db,
    opts: SqliteQueueOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = opts.now ?? Date.now;
    this.changed = opts.changed ?? (() => undefined);
  }

  async enqueue(input: EnqueueInput): Promise<{ id: number; coalesced: boolean }> {
    const out = this.db.durable(() => enqueueJob(this.db, input));
    this.changed(out.id);
    return out;
  }

  async claim(repo: string, owner: JobOwner, opts: { only?: number } = {}): Promise<Job | null> {
    const id = claimJob(this.db, repo, owner, this.now() + this.leaseMs, opts.only ?? null);
    if (id === null) return null;
    this.changed(id);
    return getJob(this.db, id);
  }

  async heartbeat(id: number, owner: JobOwner): Promise<boolean> {
    return renewLease(this.db, id, owner, this.now() + this.leaseMs);
  }

  async finish(id: number, owner: JobOwner, outcome: JobOutcome): Promise<boolean> {
    const done = this.db.durable(() => finishJob(this.db, id, outcome.state, outcome.reason, outcome.failure ?? null, owner));
    if (done) this.changed(id);
    return done;
  }

  async requeue(id: number, owner: JobOwner, reason: string): Promise<boolean> {
    const job = this.db.durable(() => {
      const j = getJob(this.db, id);
      if (!j || j.state !== 'running' || j.owner_pid !== owner.pid || j.owner_start !== owner.start) return null;
      interruptAndRequeue(this.db, j, reason);
      return j;
    });
    if (job) this.changed(id);
    return job !== null;
  }

  async recover(isAlive: (owner: JobOwner) => boolean): Promise<Job[]> {
    const taken = this.db.durable(() => {
      const stale = staleJobs(this.db, isAlive, this.now());
      for (const job of stale) interruptAndRequeue(this.db, job, `the process that ran this job (pid ${job.owner_pid ?? '?'}) is gone or stopped renewing it; queued again`);
      return stale;
    }, true);
    for (const job of taken) this.changed(job.id);
    return taken;
  }

  async get(id: number): Promise<Job | null> {
    return getJob(this.db, id);
  }

  async running(repo: string): Promise<Job | null> {
    return listJobs(this.db, { repo, states: ['running'], limit: 1 })[0] ?? null;
  }

  async queuedRepos(): Promise<string[]> {
    return reposWithQueuedJobs(this.db);
  }
}
