import type { Config, RepoConfig } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import { cacheDir } from '../deploy/deploy.js';
import { tracksRef } from '../webhooks/match-ref.js';
import { errorMessage } from '../lib/errors.js';
import { redactUrl } from '../lib/redact.js';
import type { Logger } from '../lib/log.js';
import { existsSync } from 'node:fs';
import { localRefs, remoteRefs } from '../vcs/git.js';
import { repoAuth, vcsFor } from '../vcs/index.js';
import type { Store } from '../store/store.js';

/**
 * `poll: 5m`: asks the remote for its heads and tags (`git ls-remote`, no objects) on the
 * interval, and queues a job when a tracked ref differs from what the cache last fetched.
 * The first check runs at start, so pushes missed while autopull was down are caught.
 */
export class Poller {
  private timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private readonly ref: ConfigRef;

  constructor(
    config: Config | ConfigRef,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly kick: (repo: string) => void,
  ) {
    this.ref = ConfigRef.of(config);
  }

  private get config(): Config {
    return this.ref.current;
  }

  start(): void {
    this.stopped = false;
    for (const repo of this.config.repos.values()) {
      if (repo.poll !== undefined) this.schedule(repo.name, 0);
    }
    this.ref.on('change', this.onChange);
  }

  stop(): void {
    this.stopped = true;
    this.ref.off('change', this.onChange);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * A reload: a repo that gained `poll` (or was added with it) is checked at once; one whose
   * interval changed is checked after the new interval; one that lost it (or was removed)
   * is no longer polled. The others keep their timers.
   */
  private readonly onChange = (next: Config, previous: Config): void => {
    for (const [name, timer] of this.timers) {
      if (next.repos.get(name as never)?.poll === undefined) {
        clearTimeout(timer);
        this.timers.delete(name);
      }
    }
    for (const repo of next.repos.values()) {
      if (repo.poll === undefined) continue;
      const before = previous.repos.get(repo.name)?.poll;
      if (before === undefined || !this.timers.has(repo.name)) this.schedule(repo.name, 0);
      else if (before !== repo.poll) this.schedule(repo.name, repo.poll);
    }
  };

  private schedule(name: string, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(name));
    const timer = setTimeout(() => {
      const repo = this.config.repos.get(name as never);
      if (repo?.poll === undefined) {
        this.timers.delete(name);
        return;
      }
      void this.check(repo).finally(() => {
        // A reload while the check ran may have rescheduled this repo: that timer stands.
        if (this.timers.get(name) === timer) this.schedule(name, this.config.repos.get(name as never)?.poll ?? 300_000);
      });
    }, delayMs);
    timer.unref();
    this.timers.set(name, timer);
  }

  /** Returns the job id queued, or null when nothing moved. */
  async check(repo: RepoConfig): Promise<number | null> {
    const busy = this.store.listJobs({ repo: repo.name, states: ['queued', 'running'], limit: 1 }).length > 0;
    if (busy) return null;
    try {
      const moved = repo.vcs === 'hg' ? await this.movedHg(repo) : await this.movedGit(repo);
      if (moved.length === 0) return null;
      // The first configured branch wins over other moved refs: it is what a deploy shows.
      const first = repo.branches.map((b) => `refs/heads/${b}`).find((r) => moved.includes(r));
      const ref = first ?? (moved[0] as string);
      const { id } = this.store.enqueue({ repo: repo.name, ref, hintSha: null, trigger: 'poll' });
      this.logger.info({ repo: repo.name, ref, job: id }, `poll: ${ref} moved at ${redactUrl(repo.url)}; job ${id} queued`);
      this.kick(repo.name);
      return id;
    } catch (err) {
      this.logger.warn({ repo: repo.name }, `poll of ${redactUrl(repo.url)} failed: ${errorMessage(err)}`);
      return null;
    }
  }

  /** git: every tracked branch and tag whose remote id differs from the cache's (`ls-remote`). */
  private async movedGit(repo: RepoConfig): Promise<string[]> {
    const cache = cacheDir(this.config, repo.name);
    const [remote, local] = await Promise.all([
      remoteRefs(repo.url, repoAuth(this.config.data_dir, repo.ssh_key), { timeoutMs: 60_000 }),
      existsSync(cache) ? localRefs(cache) : Promise.resolve(new Map<string, string>()),
    ]);
    return [...remote].filter(([ref, sha]) => tracksRef(repo, ref) && local.get(ref) !== sha).map(([ref]) => ref);
  }

  /** hg: each plainly named tracked branch whose remote head (`hg identify`) differs from the cache's. */
  private async movedHg(repo: RepoConfig): Promise<string[]> {
    const vcs = vcsFor('hg');
    const cache = vcs.cacheDir(this.config.data_dir, repo.name);
    const moved: string[] = [];
    for (const branch of repo.branches.filter((b) => !/[*?]/.test(b))) {
      const ref = `refs/heads/${branch}`;
      const remote = await vcs.remoteHead(repo.url, ref, repoAuth(this.config.data_dir, repo.ssh_key));
      if (remote === null) continue;
      const local = existsSync(cache) ? await vcs.resolve(cache, ref) : null;
      if (local === null || !local.startsWith(remote.slice(0, 12))) moved.push(ref);
    }
    return moved;
  }
}
