import type { ConfigRef } from '../config/config-ref.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { vcsFor } from '../vcs/index.js';

/** How long after a repo's jobs went idle its cache gets its upkeep: not while a new app boots. */
export const UPKEEP_DELAY_MS = 2000;
/** A bound on one upkeep run (a real `git gc` of a large cache takes a while). */
const UPKEEP_TIMEOUT_MS = 30 * 60_000;

/**
 * The housekeeping a fetch leaves undone (vcs `upkeep`: git's `gc --auto`, which a plain
 * `git fetch` runs before it exits, a few ms on every deploy's path), run once a repo's job
 * loop has gone idle: `schedule` after the loop, UPKEEP_DELAY_MS later; a loop that starts
 * meanwhile cancels it (its own end schedules it again). `flush` runs what is pending at once
 * (an in-process CLI run, before it exits); `stop` ends a run in progress. A job that starts
 * while a run goes on does not wait for it: git lets a fetch run beside gc.
 */
export class CacheUpkeep {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly halt = new AbortController();

  constructor(
    private readonly ref: ConfigRef,
    private readonly logger: Logger,
    private readonly delayMs = UPKEEP_DELAY_MS,
  ) {}

  schedule(repo: string): void {
    if (this.halt.signal.aborted) return;
    this.cancel(repo);
    const timer = setTimeout(() => {
      this.timers.delete(repo);
      void this.run(repo);
    }, this.delayMs);
    timer.unref();
    this.timers.set(repo, timer);
  }

  /** A pending run of `repo` is dropped (its jobs run again). */
  cancel(repo: string): void {
    clearTimeout(this.timers.get(repo));
    this.timers.delete(repo);
  }

  /** Runs every pending upkeep now; resolves when none runs. */
  async flush(): Promise<void> {
    for (const repo of [...this.timers.keys()]) {
      this.cancel(repo);
      void this.run(repo);
    }
    await Promise.all(this.running.values());
  }

  /** Drops what is pending and ends what runs (git gc stops cleanly: its temporary files go at the next run). */
  async stop(): Promise<void> {
    this.halt.abort();
    for (const repo of [...this.timers.keys()]) this.cancel(repo);
    await Promise.all(this.running.values());
  }

  private run(repo: string): Promise<void> {
    const before = this.running.get(repo) ?? Promise.resolve();
    const next = before.then(() => this.upkeep(repo)).finally(() => {
      if (this.running.get(repo) === next) this.running.delete(repo);
    });
    this.running.set(repo, next);
    return next;
  }

  private async upkeep(repo: string): Promise<void> {
    const config = this.ref.current;
    const r = config.repos.get(repo as never);
    if (!r || this.halt.signal.aborted) return;
    const vcs = vcsFor(r.vcs);
    if (!vcs.upkeep) return;
    try {
      await vcs.upkeep(vcs.cacheDir(config.data_dir, repo), { signal: this.halt.signal, timeoutMs: UPKEEP_TIMEOUT_MS });
    } catch (err) {
      if (this.halt.signal.aborted) return;
      this.logger.warn({ repo }, `upkeep of the ${repo} cache (git gc --auto) failed: ${errorMessage(err)}`);
    }
  }
}
