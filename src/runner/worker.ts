import type { Config } from '../config/load.js';
import type { Logger } from '../lib/log.js';
import { errorMessage, failureCode, ShutdownError } from '../lib/errors.js';
import { killGroup } from '../lib/exec.js';
import { killProcessesInside } from '../lib/orphans.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { layout } from '../deploy/releases.js';
import { runDeploy, type JobContext } from '../deploy/deploy.js';
import { prune } from '../deploy/prune.js';
import { releaseLedger } from '../store/release-ledger.js';
import { runRollback } from '../deploy/rollback.js';
import type { Apps } from '../deploy/apps.js';
import { runMirrorJob } from '../mirror/job.js';
import type { Job, Store } from '../store/store.js';

/** How often a repo whose job runs in another process is checked again: doubling, capped. */
const WAIT_FIRST_MS = 250;
const WAIT_MAX_MS = 2000;

/**
 * Runs jobs: one loop per repo (so one job at a time per repo, repos in parallel). `kick`
 * wakes a repo's loop; the loop claims from the store until nothing is queued, so jobs
 * queued while it ran (coalesced into one) are taken next.
 *
 * Another process may hold the repo's running job (an in-process `autopull deploy`, a second
 * server on the same data_dir): the loop then waits on a timer (250 ms doubling to 2 s) and
 * claims once that job has ended, or takes its work over when that process has died. It
 * never retries at once: that would starve the event loop (no /healthz, no SIGTERM).
 */
export class Worker {
  private loops = new Map<string, Promise<void>>();
  private running = new Map<number, AbortController>();
  private stopping = false;
  /** Aborted by `stop()`: ends every wait for another process's job at once. */
  private readonly halt = new AbortController();

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly logger: Logger,
    /**
     * `apps`: the server's supervised apps (none in an in-process CLI run). `only`: claim
     * just this job (an in-process CLI run runs the job it queued; the rest is the server's).
     */
    private readonly opts: { pid?: number; apps?: Apps; only?: number } = {},
  ) {}

  private get pid(): number {
    return this.opts.pid ?? process.pid;
  }

  /**
   * Start-up work: jobs left running by a dead autopull are marked interrupted and queued
   * again (their build processes killed), unfinished releases are removed, then every repo
   * with queued jobs is started. A repo whose job runs in another live process is not
   * pruned: its releases are that job's to build, switch and prune.
   */
  recover(): Job[] {
    // Our own pid cannot own a running job yet: a restarted autopull may get its old pid back.
    const interrupted = this.store.recoverInterrupted((pid, start) => pid !== this.pid && isSameProcessAlive(pid, start));
    for (const job of interrupted) this.cleanUpInterrupted(job);
    for (const repo of this.config.repos.values()) {
      if (!repo.deploy) continue;
      const holder = this.runningJob(repo.name);
      if (holder) {
        this.logger.info({ repo: repo.name, job: holder.id }, `releases left alone: job ${holder.id} runs in process ${holder.owner_pid ?? '?'}, which prunes them when it ends`);
        continue;
      }
      prune(releaseLedger(this.store, repo.name), layout(repo.deploy.path), repo.deploy.keep, [], (m) => this.logger.info({ repo: repo.name }, m));
    }
    this.kickAll();
    return interrupted;
  }

  /** An interrupted job's processes: its build's group, and any process left inside its unfinished release. */
  private cleanUpInterrupted(job: Job): void {
    if (job.child_pid) killGroup(job.child_pid, 'SIGKILL');
    const repo = this.config.repos.get(job.repo as never);
    // Only a release that never went live: a live one's folder is where the app itself runs.
    if (repo?.deploy && job.release && this.store.getRelease(job.repo, job.release)?.state === 'building') {
      // A build whose pid never reached the store (killed right after the spawn) still runs there.
      const killed = killProcessesInside(join(repo.deploy.path, 'releases', job.release));
      if (killed > 0) this.logger.warn({ job: job.id }, `killed ${killed} leftover process(es) of the interrupted job`);
    }
    this.logger.warn({ job: job.id, repo: job.repo }, 'job was interrupted by a stop of autopull; queued again');
  }

  /** Whether the repo has a queued job this worker may claim. */
  private hasQueued(repo: string): boolean {
    if (this.opts.only !== undefined) return this.store.getJob(this.opts.only)?.state === 'queued';
    return this.store.reposWithQueuedJobs().includes(repo);
  }

  private runningJob(repo: string): Job | null {
    return this.store.listJobs({ repo, states: ['running'], limit: 1 })[0] ?? null;
  }

  kickAll(): void {
    for (const repo of this.store.reposWithQueuedJobs()) this.kick(repo);
  }

  kick(repo: string): void {
    if (this.stopping || this.loops.has(repo)) return;
    const loop = this.loop(repo).finally(() => {
      this.loops.delete(repo);
      // A job queued between the last claim and the loop's end would otherwise wait. (The
      // loop ends only when it found nothing to claim and no job running: no busy retry.)
      if (!this.stopping && this.hasQueued(repo)) this.kick(repo);
    });
    this.loops.set(repo, loop);
  }

  /** Resolves when every loop has gone idle (for tests and in-process CLI runs). */
  async idle(): Promise<void> {
    while (this.loops.size > 0) await Promise.allSettled([...this.loops.values()]);
  }

  /**
   * Stops: no new claims; running jobs are aborted after `graceMs`, marked interrupted and
   * queued again, so the next start finishes their work.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    const timer = setTimeout(() => {
      for (const ac of this.running.values()) ac.abort(new ShutdownError());
    }, graceMs);
    try {
      await Promise.allSettled([...this.loops.values()]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(repo: string): Promise<void> {
    await Promise.resolve();
    let waitMs = WAIT_FIRST_MS;
    while (!this.stopping) {
      const job = this.store.claim(repo, this.pid, undefined, this.opts.only ?? null);
      if (job) {
        await this.runJob(job);
        waitMs = WAIT_FIRST_MS;
        continue;
      }
      // claim() finds nothing to take when nothing is queued, or when a job of the repo runs.
      const holder = this.runningJob(repo);
      if (!holder) return;
      if (holder.owner_pid === null || !isSameProcessAlive(holder.owner_pid, holder.owner_start)) {
        // Its process died (kill -9 of a CLI deploy): its work is queued again, taken next turn.
        // This process's own jobs pass the check (same pid, same start time).
        const taken = this.store.recoverInterrupted(isSameProcessAlive);
        for (const job of taken) this.cleanUpInterrupted(job);
        if (taken.length > 0) continue;
      }
      if (waitMs === WAIT_FIRST_MS) {
        this.logger.info({ repo, job: holder.id }, `${repo}: the next job waits for job ${holder.id} (pid ${holder.owner_pid}), which runs in another process`);
      }
      await delay(waitMs, undefined, { signal: this.halt.signal }).catch(() => undefined);
      waitMs = Math.min(waitMs * 2, WAIT_MAX_MS);
    }
  }

  private async runJob(job: Job): Promise<void> {
    const repo = this.config.repos.get(job.repo as never);
    const log = this.logger.child({ job: job.id, repo: job.repo });
    if (!repo) {
      this.store.finishJob(job.id, 'failed', `repo ${job.repo} is no longer in the config`, 'repo_removed');
      return;
    }
    const ac = new AbortController();
    this.running.set(job.id, ac);
    const timeoutMs = repo.deploy?.timeout ?? 600_000;
    const timer = setTimeout(() => ac.abort(new Error(`job timed out after ${Math.round(timeoutMs / 1000)}s (deploy.timeout)`)), timeoutMs);
    const ctx: JobContext = {
      config: this.config,
      repo,
      job,
      store: this.store,
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
    const what =
      job.kind === 'rollback'
        ? `rollback ${job.repo}${typeof job.params?.to === 'string' ? ` to ${job.params.to}` : ''}`
        : job.kind === 'mirror'
          ? `mirror ${job.repo}`
          : `deploy ${job.repo} ${job.ref ?? '(default branch)'}`;
    ctx.log('info', `job ${job.id}: ${what} (${job.trigger}${job.force ? ', forced' : ''})`);
    try {
      const result = job.kind === 'rollback' ? await runRollback(ctx) : job.kind === 'mirror' ? await runMirrorJob(ctx) : await runDeploy(ctx);
      ctx.log('info', result.reason);
      this.store.finishJob(job.id, result.state, result.reason, result.failure ?? null);
      log.info({ state: result.state }, result.reason);
    } catch (err) {
      if (ac.signal.reason instanceof ShutdownError) {
        ctx.log('error', 'autopull is stopping; the job will run again at the next start');
        this.store.db.transaction(() => {
          this.store.finishJob(job.id, 'interrupted', 'autopull stopped while this job ran; queued again', 'interrupted');
          this.store.enqueue({ repo: job.repo, kind: job.kind, params: job.params, ref: job.ref, hintSha: job.hint_sha, trigger: 'recovery', deliveries: job.deliveries, force: job.force, retryOf: job.id, merge: 'older' });
        })();
      } else {
        const timedOut = ac.signal.aborted && ac.signal.reason instanceof Error;
        const reason = timedOut ? `${(ac.signal.reason as Error).message}: ${errorMessage(err)}` : errorMessage(err);
        ctx.log('error', `failed: ${reason}`);
        this.store.finishJob(job.id, 'failed', reason, timedOut ? 'timeout' : failureCode(err));
        log.warn({ state: 'failed' }, reason);
      }
    } finally {
      clearTimeout(timer);
      this.running.delete(job.id);
    }
  }
}

