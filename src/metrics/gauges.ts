import { lstatSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { layout } from '../deploy/releases.js';
import type { Store } from '../store/store.js';
import type { LazyRegistry } from './lazy.js';
import type { Gauge as PromGauge, Registry } from 'prom-client';

/**
 * Gauges read when Prometheus scrapes (what is true now, so nothing to keep in step):
 * - `autopull_queue_depth{repo}`: queued jobs, one series per configured repo (0 when none);
 * - `autopull_jobs_running{repo}`: running jobs (0 or 1 per repo);
 * - `autopull_live_release_age_seconds{repo}`: since `current` was last switched (the link's
 *   own mtime: it is made under a temp name and renamed over `current` at each switch), for
 *   each repo with a deploy: section and a live release.
 */
/** `config` gives the config in force at each scrape (a reload adds or removes repos). */
export function scrapeGauges(lazy: LazyRegistry, config: () => Config, store: Store): void {
  lazy.define((prom, registry) => gauges(prom.Gauge, [registry], config, store));
}

function gauges(Gauge: typeof PromGauge, registers: Registry[], config: () => Config, store: Store): void {
  const perRepo = (state: 'queued' | 'running') => {
    const counts = new Map<string, number>([...config().repos.keys()].map((r) => [r, 0]));
    for (const job of store.listJobs({ states: [state], limit: 100_000 })) {
      if (counts.has(job.repo)) counts.set(job.repo, (counts.get(job.repo) ?? 0) + 1);
    }
    return counts;
  };
  new Gauge({
    name: 'autopull_queue_depth',
    help: 'Jobs queued, by repo',
    labelNames: ['repo'],
    registers,
    collect() {
      this.reset();
      for (const [repo, n] of perRepo('queued')) this.set({ repo }, n);
    },
  });
  new Gauge({
    name: 'autopull_jobs_running',
    help: 'Jobs running, by repo',
    labelNames: ['repo'],
    registers,
    collect() {
      this.reset();
      for (const [repo, n] of perRepo('running')) this.set({ repo }, n);
    },
  });
  new Gauge({
    name: 'autopull_live_release_age_seconds',
    help: 'Seconds since the live release was switched in (current -> releases/ID), by repo',
    labelNames: ['repo'],
    registers,
    collect() {
      this.reset();
      const now = Date.now();
      for (const repo of config().repos.values()) {
        if (!repo.deploy) continue;
        try {
          const st = lstatSync(layout(repo.deploy.path).current);
          if (st.isSymbolicLink()) this.set({ repo: repo.name }, Math.max(0, (now - st.mtimeMs) / 1000));
        } catch {
          // no release live yet
        }
      }
    },
  });
}
