import { nextRetryAt, takeDueRetries } from '../store/mirror-status.js';
import { paramsKey, type JobParams, type Store } from '../store/store.js';

/**
 * The server's retry clock for failed mirror targets: when a target's `next_retry_at` is
 * due, it queues a `mirror` job for that target through the store (so it runs one job at a
 * time with the repo's deploys, and survives a restart as a status row). The timer wakes at
 * the earliest due retry, and at least every `maxSleepMs` to see rows other processes wrote.
 */
export class MirrorRetries {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly kick: (repo: string) => void,
    private readonly isConfigured: (repo: string) => boolean,
    private readonly now: () => Date = () => new Date(),
    private readonly maxSleepMs = 30_000,
  ) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Queues every due retry (one job per repo and override), then sleeps until the next. */
  tick(): number[] {
    const groups = new Map<string, { repo: string; params: JobParams; targets: Set<string> }>();
    for (const due of takeDueRetries(this.store.db, this.now())) {
      if (!this.isConfigured(due.repo)) continue;
      const { targets = [], ...rest } = due.params;
      const key = `${due.repo}\n${paramsKey(rest) ?? ''}`;
      const g = groups.get(key) ?? { repo: due.repo, params: rest, targets: new Set<string>() };
      for (const target of targets) g.targets.add(target);
      groups.set(key, g);
    }
    const ids: number[] = [];
    for (const g of groups.values()) {
      const params: JobParams = { ...g.params, ...(g.targets.size > 0 ? { targets: [...g.targets].sort() } : {}) };
      ids.push(this.store.enqueue({ repo: g.repo, ref: null, hintSha: null, trigger: 'retry', kind: 'mirror', params }).id);
      this.kick(g.repo);
    }
    this.schedule();
    return ids;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const next = nextRetryAt(this.store.db);
    const wait = next === null ? this.maxSleepMs : Math.max(0, Math.min(this.maxSleepMs, next.getTime() - this.now().getTime()));
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }
}
