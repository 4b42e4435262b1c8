import type { Config } from '../config/load.js';
import type { Logger } from '../lib/log.js';
import { errorMessage, failureCode, ShutdownError } from '../lib/errors.js';
import { killGroup } from '../lib/exec.js';
import { killProcessesInside } from '../lib/orphans.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { join } from 'node:path';
import { layout } from '../deploy/releases.js';
import { runDeploy, type JobContext } from '../deploy/deploy.js';
import { prune } from '../deploy/prune.js';
import { releaseLedger } from '../store/release-ledger.js';
import { runRollback } from '../deploy/rollback.js';
import type { Apps } from '../deploy/apps.js';
import { runMirrorJob } from '../mirror/job.js';
import type { Job, Store } from '../store/store.js';

/**
 * Runs jobs: one loop per repo (so one job at a time per repo, repos in parallel). `kick`
 * wakes a repo's loop; the loop claims from the store until nothing is queued, so jobs
 * queued while it ran (coalesced into one) are taken next.
 */
export class Worker {
  private loops = new Map<string, Promise<void>>();
  private running = new Map<number, AbortController>();
  private stopping = false;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly logger: Logger,
    /** `apps`: the server's supervised apps (none in an in-process CLI run). */
    private readonly opts: { pid?: number; apps?: Apps } = {},
  ) {}

  private get pid(): number {
    return this.opts.pid ?? process.pid;
  }

  /**
   * Start-up work: jobs left running by a dead autopull are marked interrupted and queued
   * again (their build processes killed), unfinished releases are removed, then every repo
   * with queued jobs is started.
   */
  recover(): Job[] {
    // Our own pid cannot own a running job yet: a restarted autopull may get its old pid back.
    const interrupted = this.store.recoverInterrupted((pid, start) => pid !== this.pid && isSameProcessAlive(pid, start));
    for (const job of interrupted) {
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
    for (const repo of this.config.repos.values()) {
      if (repo.deploy) prune(releaseLedger(this.store, repo.name), layout(repo.deploy.path), repo.deploy.keep, [], (m) => this.logger.info({ repo: repo.name }, m));
    }
    this.kickAll();
    return interrupted;
  }

  kickAll(): void {
    for (const repo of this.store.reposWithQueuedJobs()) this.kick(repo);
  }

  kick(repo: string): void {
    if (this.stopping || this.loops.has(repo)) return;
    const loop = this.loop(repo).finally(() => {
      this.loops.delete(repo);
      // A job queued between the last claim and the loop's end would otherwise wait.
      if (!this.stopping && this.store.reposWithQueuedJobs().includes(repo)) this.kick(repo);
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
    for (;;) {
      if (this.stopping) return;
      const job = this.store.claim(repo, this.pid);
      if (!job) return;
      await this.runJob(job);
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

