import type { Config, RepoConfig } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import type { Logger } from '../lib/log.js';
import { errorMessage, failureCode, LeaseLostError, ShutdownError } from '../lib/errors.js';
import { killGroup } from '../lib/exec.js';
import { killProcessesInside } from '../lib/orphans.js';
import { isRunning, processStartTime } from '../lib/proc.js';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { layout } from '../deploy/releases.js';
import { runDeploy, type JobContext, type JobResult } from '../deploy/deploy.js';
import { prune } from '../deploy/prune.js';
import { releaseLedger } from '../store/release-ledger.js';
import { mirrorBook } from '../store/mirror-status.js';
import { runRollback } from '../deploy/rollback.js';
import { runRestart } from '../deploy/restart-app.js';
import type { Apps } from '../deploy/apps.js';
import { runMirrorJob } from '../mirror/job.js';
import { CacheUpkeep } from './cache-upkeep.js';
import type { Job, Store } from '../store/store.js';
import { DEFAULT_LEASE_MS, type JobOwner, type JobQueue } from '../store/job-queue.js';

/** The handler of each job kind. */
const JOB_RUNNERS: Record<Job['kind'], (ctx: JobContext) => Promise<JobResult>> = { deploy: runDeploy, rollback: runRollback, mirror: runMirrorJob, restart: runRestart };

/** How often a repo whose job runs in another process is checked again: doubling, capped. */
const WAIT_FIRST_MS = 250;
const WAIT_MAX_MS = 2000;
/** A job loop that failed runs again after this, doubling while it keeps failing, capped. */
const LOOP_RETRY_FIRST_MS = 1000;
const LOOP_RETRY_MAX_MS = 30_000;


/**
 * Runs jobs: one loop per repo (so one job at a time per repo, repos in parallel). `kick`
 * wakes a repo's loop; the loop claims from the queue (store/job-queue.ts) until nothing is
 * queued, so jobs queued while it ran (coalesced into one) are taken next. A running job's
 * lease is renewed every third of its length; a job that loses it stops at once.
 *
 * Another process may hold the repo's running job (an in-process `autopull deploy`, a second
 * server on the same data_dir): the loop then waits on a timer (250 ms doubling to 2 s) and
 * claims once that job has ended, or takes its work over when that process has died or its
 * lease ran out. It never retries at once: that would starve the event loop (no /healthz, no
 * SIGTERM).
 */
export class Worker {
  private loops = new Map<string, Promise<void>>();
  /** Per repo: failed loops in a row, and the timer that runs the loop again. */
  private readonly loopFailures = new Map<string, number>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private running = new Map<number, { ac: AbortController; repo: string }>();
  private stopping = false;
  private recovering: Promise<unknown> = Promise.resolve();
  /** Aborted by `stop()`: ends every wait for another process's job at once. */
  private readonly halt = new AbortController();
  private readonly queue: JobQueue;
  private readonly owner: JobOwner;
  /** The config in force: read when a job is claimed; the job keeps that one to its end. */
  private readonly ref: ConfigRef;
  /** Repos whose loop ran a job that fetched: their cache gets its upkeep once the loop ends. */
  private readonly fetched = new Set<string>();
  private readonly upkeep: CacheUpkeep;

  constructor(
    config: Config | ConfigRef,
    private readonly store: Store,
    private readonly logger: Logger,
    /**
     * `apps`: the server's supervised apps (none in an in-process CLI run). `only`: claim
     * just this job (an in-process CLI run runs the job it queued; the rest is the server's).
     * `queue`: the job queue (the store's SQLite one by default).
     */
    private readonly opts: { pid?: number; apps?: Apps; only?: number; queue?: JobQueue; leaseMs?: number } = {},
  ) {
    this.ref = ConfigRef.of(config);
    this.upkeep = new CacheUpkeep(this.ref, logger);
    this.queue = opts.queue ?? store.queue;
    const pid = opts.pid ?? process.pid;
    this.owner = { pid, start: processStartTime(pid) };
  }

  /** Whether a job's owner still runs it; our own pid cannot own one before we claim it. */
  private readonly alive = (o: JobOwner, self: boolean): boolean => (self || o.pid !== this.owner.pid) && isRunning(o.pid, o.start);

  /**
   * Start-up work: jobs left running by a dead autopull are marked interrupted and queued
   * again (their build processes killed), unfinished releases are removed, then every repo
   * with queued jobs is started. A repo whose job runs in another live process is not
   * pruned: its releases are that job's to build, switch and prune. `idle()` waits for it.
   */
  recover(): Promise<Job[]> {
    const done = (async () => {
      // A restarted autopull may get its old pid back: a job "of ours" now is a dead one's.
      const interrupted = await this.queue.recover((o) => this.alive(o, false));
      for (const job of interrupted) this.cleanUpInterrupted(job);
      for (const repo of this.ref.current.repos.values()) {
        if (!repo.deploy) continue;
        const holder = await this.queue.running(repo.name);
        if (holder) {
          this.logger.info({ repo: repo.name, job: holder.id }, `releases left alone: job ${holder.id} runs in process ${holder.owner_pid ?? '?'}, which prunes them when it ends`);
          continue;
        }
        await prune(releaseLedger(this.store, repo.name), layout(repo.deploy.path), repo.deploy.keep, [], (m) => this.logger.info({ repo: repo.name }, m));
      }
      await this.kickAll();
      return interrupted;
    })();
    this.recovering = done.catch(() => undefined);
    return done;
  }

  /** An interrupted job's processes: its build's group, and any process left inside its unfinished release. */
  private cleanUpInterrupted(job: Job): void {
    if (job.child_pid) killGroup(job.child_pid, 'SIGKILL');
    const repo = this.ref.current.repos.get(job.repo as never);
    // Only a release that never went live: a live one's folder is where the app itself runs.
    if (repo?.deploy && job.release && this.store.getRelease(job.repo, job.release)?.state === 'building') {
      // A build whose pid never reached the store (killed right after the spawn) still runs there.
      const killed = killProcessesInside(join(repo.deploy.path, 'releases', job.release));
      if (killed > 0) this.logger.warn({ job: job.id, repo: job.repo }, `killed ${killed} leftover process(es) of the interrupted job`);
    }
    this.logger.warn({ job: job.id, repo: job.repo }, `job ${job.id} was interrupted by a stop of autopull; queued again`);
  }

  /** Whether the repo has a queued job this worker may claim. */
  private async hasQueued(repo: string): Promise<boolean> {
    if (this.opts.only !== undefined) return (await this.queue.get(this.opts.only))?.state === 'queued';
    return (await this.queue.queuedRepos()).includes(repo);
  }

  async kickAll(): Promise<void> {
    for (const repo of await this.queue.queuedRepos()) this.kick(repo);
  }

  kick(repo: string): void {
    if (this.stopping || this.loops.has(repo)) return;
    this.upkeep.cancel(repo);
    let retryIn: number | null = null;
    const loop = this.loop(repo)
      .catch((err: unknown) => {
        const wait = this.loopRetryMs(repo);
        retryIn = wait;
        this.logger.error({ repo, err: errorMessage(err) }, `${repo}: the job loop failed: ${errorMessage(err)}; trying again in ${wait} ms`);
      })
      .finally(async () => {
        this.loops.delete(repo);
        if (this.stopping) return;
        if (this.fetched.delete(repo)) this.upkeep.schedule(repo);
        // A loop that failed (the database refusing a claim: a full disk) is tried again on a
        // timer: at once, it would fail at once again, and never let the event loop turn.
        if (retryIn !== null) return this.retryLater(repo, retryIn);
        this.loopFailures.delete(repo);
        // A job queued between the last claim and the loop's end would otherwise wait. (The
        // loop ends only when it found nothing to claim and no job running: no busy retry.)
        if (await this.hasQueued(repo).catch(() => false)) this.kick(repo);
      });
    this.loops.set(repo, loop);
  }

  /** The wait before a failed loop of `repo` runs again: 1 s doubling to 30 s while it keeps failing. */
  private loopRetryMs(repo: string): number {
    const n = (this.loopFailures.get(repo) ?? 0) + 1;
    this.loopFailures.set(repo, n);
    return Math.min(LOOP_RETRY_MAX_MS, LOOP_RETRY_FIRST_MS * 2 ** (n - 1));
  }

  private retryLater(repo: string, wait: number): void {
    clearTimeout(this.retries.get(repo));
    const timer = setTimeout(() => {
      this.retries.delete(repo);
      this.kick(repo);
    }, wait);
    this.retries.set(repo, timer);
  }

  /** Resolves when recovery is done, every loop has gone idle and their caches' upkeep has run (for tests and in-process CLI runs). */
  async idle(): Promise<void> {
    await this.recovering;
    while (this.loops.size > 0) await Promise.allSettled([...this.loops.values()]);
    await this.upkeep.flush();
  }

  /**
   * Stops: no new claims; each running job gets `graceMs` (shutdown_grace) to finish, then it
   * is aborted, recorded interrupted and queued again, so the next start finishes its work.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    for (const timer of this.retries.values()) clearTimeout(timer);
    for (const [id, { repo }] of this.running) {
      this.logger.info({ job: id, repo }, `stopping: job ${id} (${repo}) gets up to ${Math.round(graceMs / 1000)}s to finish (shutdown_grace)`);
    }
    const timer = setTimeout(() => {
      for (const [id, { ac, repo }] of this.running) {
        this.logger.warn({ job: id, repo }, `job ${id} did not finish within shutdown_grace: stopped, recorded interrupted, queued for the next start`);
        ac.abort(new ShutdownError());
      }
    }, graceMs);
    try {
      await Promise.allSettled([...this.loops.values()]);
    } finally {
      clearTimeout(timer);
    }
    await this.upkeep.stop();
  }

  private async loop(repo: string): Promise<void> {
    await Promise.resolve();
    let waitMs = WAIT_FIRST_MS;
    while (!this.stopping) {
      const job = await this.queue.claim(repo, this.owner, this.opts.only === undefined ? {} : { only: this.opts.only });
      if (job) {
        await this.runJob(job);
        waitMs = WAIT_FIRST_MS;
        continue;
      }
      // claim() finds nothing to take when nothing is queued, or when a job of the repo runs.
      const holder = await this.queue.running(repo);
      if (!holder) return;
      // Its process died (kill -9 of a CLI deploy) or stopped renewing: its work is queued
      // again, taken next turn. This process's own jobs pass (same pid, same start time).
      const taken = await this.queue.recover((o) => this.alive(o, true));
      for (const job of taken) this.cleanUpInterrupted(job);
      if (taken.length > 0) continue;
      if (waitMs === WAIT_FIRST_MS) {
        this.logger.info({ repo, job: holder.id }, `${repo}: the next job waits for job ${holder.id} (pid ${holder.owner_pid}), which runs in another process`);
      }
      await delay(waitMs, undefined, { signal: this.halt.signal }).catch(() => undefined);
      waitMs = Math.min(waitMs * 2, WAIT_MAX_MS);
    }
  }

  /** Renews the job's lease every third of it; aborts the job when the lease is lost. */
  private keepLease(job: Job, ac: AbortController): () => void {
    const leaseMs = this.opts.leaseMs ?? DEFAULT_LEASE_MS;
    const timer = setInterval(() => {
      this.queue.heartbeat(job.id, this.owner).then(
        (held) => {
          if (!held) ac.abort(new LeaseLostError(`job ${job.id} was taken over by another process (its lease ran out)`));
        },
        (err: unknown) => this.logger.warn({ job: job.id, repo: job.repo }, `lease renewal failed: ${errorMessage(err)}`),
      );
    }, Math.max(10, Math.floor(leaseMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  private jobContext(job: Job, ac: AbortController, config: Config, repo: RepoConfig): JobContext {
    const log = this.logger.child({ job: job.id, repo: job.repo });
    return {
      config,
      repo,
      job,
      mirrors: mirrorBook(this.store.db, job.repo),
      releases: releaseLedger(this.store, job.repo),
      signal: ac.signal,
      apps: this.opts.apps,
      log: (stream, line) => {
        this.store.appendLog(job.id, stream, line);
        if (stream === 'step') log.info(line);
      },
      onChild: (pid) => this.store.updateJob(job.id, { child_pid: pid }),
      setTarget: (fields) => this.store.updateJob(job.id, fields),
    };
  }

  private async runJob(job: Job): Promise<void> {
    const config = this.ref.current;
    const repo = config.repos.get(job.repo as never);
    if (!repo) {
      await this.queue.finish(job.id, this.owner, { state: 'failed', reason: `repo ${job.repo} is no longer in the config`, failure: 'repo_removed' });
      return;
    }
    const ac = new AbortController();
    this.running.set(job.id, { ac, repo: job.repo });
    const timeoutMs = repo.deploy?.timeout ?? 600_000;
    const timer = setTimeout(() => ac.abort(new Error(`job timed out after ${Math.round(timeoutMs / 1000)}s (deploy.timeout)`)), timeoutMs);
    const stopLease = this.keepLease(job, ac);
    const ctx = this.jobContext(job, ac, config, repo);
    if (job.kind === 'deploy' || job.kind === 'mirror') this.fetched.add(job.repo);
    ctx.log('info', `job ${job.id}: ${describe(job)} (${job.trigger}${job.force ? ', forced' : ''})`);
    try {
      const run = JOB_RUNNERS[job.kind] as ((c: JobContext) => Promise<JobResult>) | undefined;
      if (!run) throw new Error(`job kind "${job.kind}" is unknown to this version of autopull`);
      const result = await run(ctx);
      ctx.log('info', result.reason);
      await this.report(job, { state: result.state, reason: result.reason, failure: result.failure ?? null });
    } catch (err) {
      await this.failed(ctx, ac.signal, err);
    } finally {
      stopLease();
      clearTimeout(timer);
      this.running.delete(job.id);
    }
  }

  private async report(job: Job, outcome: { state: 'succeeded' | 'failed' | 'skipped'; reason: string; failure: string | null }): Promise<void> {
    const log = this.logger.child({ job: job.id, repo: job.repo });
    if (await this.queue.finish(job.id, this.owner, outcome)) log.info({ state: outcome.state }, outcome.reason);
    else log.warn(`job ${job.id} ended (${outcome.state}) after another process took it over; its result is not recorded`);
  }

  /** A job that threw: a stop of autopull queues it again; a lost lease leaves it to its new owner. */
  private async failed(ctx: JobContext, signal: AbortSignal, err: unknown): Promise<void> {
    const job = ctx.job;
    if (signal.reason instanceof ShutdownError) {
      ctx.log('error', 'autopull is stopping; the job will run again at the next start');
      await this.queue.requeue(job.id, this.owner, 'autopull stopped while this job ran; queued again');
      return;
    }
    if (signal.reason instanceof LeaseLostError) {
      ctx.log('error', signal.reason.message);
      this.logger.warn({ job: job.id, repo: job.repo }, signal.reason.message);
      return;
    }
    const timedOut = signal.aborted && signal.reason instanceof Error;
    const reason = timedOut ? `${(signal.reason as Error).message}: ${errorMessage(err)}` : errorMessage(err);
    ctx.log('error', `failed: ${reason}`);
    await this.report(job, { state: 'failed', reason, failure: timedOut ? 'timeout' : failureCode(err) });
  }
}

function describe(job: Job): string {
  if (job.kind === 'restart') return `restart the app of ${job.repo}`;
  if (job.kind === 'rollback') return `rollback ${job.repo}${typeof job.params?.to === 'string' ? ` to ${job.params.to}` : ''}`;
  if (job.kind === 'mirror') return `mirror ${job.repo}`;
  return `deploy ${job.repo} ${job.ref ?? '(default branch)'}`;
}
