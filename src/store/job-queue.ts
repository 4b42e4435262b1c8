import type { JobOwner, FinalJobState } from './jobs.js';
import type { EnqueueInput, Job } from './types.js';

export type { JobOwner, FinalJobState } from './jobs.js';

/** How a job ended, as its runner reports it. `failure` is a code from lib/errors.ts JOB_FAILURES. */
export interface JobOutcome {
  state: FinalJobState;
  reason: string | null;
  failure?: string | null;
}

/**
 * The durable job queue, as the runner sees it. SQLite is the backend today
 * (sqlite-job-queue.ts); the fleet adds one on Redis. Every backend passes the same contract
 * tests (job-queue.contract.ts). The rules:
 *
 * - `enqueue` coalesces: a repo has at most one queued job per (kind, params); a new push
 *   merges into it (its ref and hint win, its deliveries are added) instead of queuing more.
 * - `claim` takes a repo's oldest queued job, only when none of that repo's jobs runs (one at
 *   a time per repo), and gives the claimer a lease of `leaseMs`.
 * - The owner renews the lease with `heartbeat` while it works; false means the job is no
 *   longer its own (the lease ran out and `recover` gave the work to someone else): it must
 *   stop at once and not report.
 * - `finish` and `requeue` take effect only while the owner holds the job (false otherwise).
 * - `recover` ends as `interrupted` each running job whose owner is gone (`isAlive`) or whose
 *   lease ran out, and queues its work again (retry_of names it; its deliveries follow).
 */
export interface JobQueue {
  enqueue(input: EnqueueInput): Promise<{ id: number; coalesced: boolean }>;
  claim(repo: string, owner: JobOwner, opts?: { only?: number }): Promise<Job | null>;
  heartbeat(id: number, owner: JobOwner): Promise<boolean>;
  finish(id: number, owner: JobOwner, outcome: JobOutcome): Promise<boolean>;
  /** Gives a running job back (a stop of autopull): `interrupted`, and its work queued again. */
  requeue(id: number, owner: JobOwner, reason: string): Promise<boolean>;
  recover(isAlive: (owner: JobOwner) => boolean): Promise<Job[]>;
  get(id: number): Promise<Job | null>;
  /** The repo's running job, if any. */
  running(repo: string): Promise<Job | null>;
  /** Repos with at least one queued job. */
  queuedRepos(): Promise<string[]>;
}

/** The default lease: renewed every third of it, so a job survives two missed heartbeats. */
export const DEFAULT_LEASE_MS = 60_000;
