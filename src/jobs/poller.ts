import type { Config, RepoConfig } from '../config/load.js';
import { cacheDir } from '../deploy/deploy.js';
import { tracksRef } from '../webhooks/match-ref.js';
import { errorMessage } from '../lib/errors.js';
import { redactUrl } from '../lib/redact.js';
import type { Logger } from '../lib/log.js';
import { localRefs, lsRemote } from '../vcs/git.js';
import type { Store } from './store.js';

/**
 * `poll: 5m`: asks the remote for its heads and tags (`git ls-remote`, no objects) on the
 * interval, and queues a job when a tracked ref differs from what the cache last fetched.
 * The first check runs at start, so pushes missed while autopull was down are caught.
 */
export class Poller {
  private timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly kick: (repo: string) => void,
  ) {}

  start(): void {
    for (const repo of this.config.repos.values()) {
      if (repo.poll !== undefined) this.schedule(repo, 0);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(repo: RepoConfig, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      void this.check(repo).finally(() => this.schedule(repo, repo.poll ?? 300_000));
    }, delayMs);
    timer.unref();
    this.timers.set(repo.name, timer);
  }

  /** Returns the job id queued, or null when nothing moved. */
  async check(repo: RepoConfig): Promise<number | null> {
    const busy = this.store.listJobs({ repo: repo.name, states: ['queued', 'running'], limit: 1 }).length > 0;
    if (busy) return null;
    try {
      const [remote, local] = await Promise.all([lsRemote(repo.url, { timeoutMs: 60_000 }), localRefs(cacheDir(this.config, repo.name))]);
      const moved = [...remote].filter(([ref, sha]) => tracksRef(repo, ref) && local.get(ref) !== sha).map(([ref]) => ref);
      if (moved.length === 0) return null;
      // The first configured branch wins over other moved refs: it is what a deploy shows.
      const first = repo.branches.map((b) => `refs/heads/${b}`).find((r) => moved.includes(r));
      const ref = first ?? (moved[0] as string);
      const { id } = this.store.enqueue({ repo: repo.name, ref, hintSha: remote.get(ref) ?? null, trigger: 'poll' });
      this.logger.info({ repo: repo.name, ref, job: id }, `poll: ${ref} moved at ${redactUrl(repo.url)}; job ${id} queued`);
      this.kick(repo.name);
      return id;
    } catch (err) {
      this.logger.warn({ repo: repo.name }, `poll of ${redactUrl(repo.url)} failed: ${errorMessage(err)}`);
      return null;
    }
  }
}
