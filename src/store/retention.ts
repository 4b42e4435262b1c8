import type { Logger } from '../lib/log.js';
import type { RetentionPolicy } from './prune.js';
import type { Store } from './store.js';

export { prune, type Pruned, type PruneOptions, type RetentionPolicy } from './prune.js';

/**
 * Retention: deletes deliveries and job logs past their age or count (`retention:` in the
 * config), in the background of the server.
 *
 * Contracts:
 * - Accepted (2xx) and rejected deliveries are two classes, each with its own age and count,
 *   so a flood of rejected ones never pushes accepted history out.
 * - A delivery that a queued or running job references is never deleted, whatever its age;
 *   a job keeps the ids of its deliveries after they are pruned (the API then answers 404).
 * - Only final jobs lose their log (final states never change); the job rows are kept.
 * - Work is done in batches of at most `batch` rows, each its own statement, with the event
 *   loop free between them, so a big prune never holds the server for long. A crash between
 *   batches leaves a consistent database: the next run goes on where this one stopped.
 * - Space: freed pages go to SQLite's free list and are reused by later rows, so the file
 *   stops growing once retention holds; it does not shrink. `auto_vacuum` cannot be turned on
 *   for an existing database without a full VACUUM (a rewrite that locks the database for its
 *   length), so after a past flood an operator reclaims the space once, offline, with VACUUM.
 */

/**
 * The server's pruner: runs `prune` once at start, then every `interval`, and also as soon as
 * a class of deliveries has had `max_count` new rows since the last run, so a flood between
 * two ticks is cut while it lasts (at most about twice max_count rows of a class at any time).
 * Runs never overlap; a failed run is logged and the next one tries again.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** Aborted by stop: the run in progress stops between two batches (in whichever thread it runs). */
  private abort = new AbortController();
  private since = { accepted: 0, rejected: 0 };

  constructor(
    private readonly store: Store,
    private readonly policy: RetentionPolicy,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private readonly onDelivery = (d: { status_code: number }): void => {
    const accepted = d.status_code >= 200 && d.status_code <= 299;
    const n = accepted ? ++this.since.accepted : ++this.since.rejected;
    // Not in the request's turn: the run starts once this answer is on its way.
    if (n >= (accepted ? this.policy.deliveries.max_count : this.policy.rejected.max_count)) this.schedule(0);
  };

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.store.on('delivery', this.onDelivery);
    this.schedule(0);
  }

  /** Resolves once no run is in progress: after that the store may be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.store.off('delivery', this.onDelivery);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.since = { accepted: 0, rejected: 0 };
    this.running = this.runOnce().finally(() => {
      this.running = null;
      const again = this.again;
      this.again = false;
      this.schedule(again ? 0 : this.policy.interval);
    });
  }

  private async runOnce(): Promise<void> {
    try {
      const pruned = await this.store.prune(this.policy, this.now(), this.abort.signal);
      if (pruned.deliveries + pruned.rejected + pruned.log_lines > 0) {
        this.logger.info({ pruned }, `retention: deleted ${pruned.deliveries} accepted and ${pruned.rejected} rejected deliveries, ${pruned.log_lines} job log lines`);
      }
    } catch (err) {
      this.logger.warn({ err }, 'retention: prune failed; trying again at the next interval');
    }
  }
}
