import { createRequire } from 'node:module';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type * as Prom from 'prom-client';

type PromClient = typeof Prom;

/**
 * prom-client's file, found when this module loads: a broken install refuses `serve` at start
 * instead of failing the first scrape. Loading it (and @opentelemetry/api, which it requires)
 * costs ~40 ms of CPU and a few MiB, so it is loaded only once a metric has something to count
 * or /metrics is scraped (LazyRegistry.build).
 */
const PROM_CLIENT = createRequire(import.meta.url).resolve('prom-client');

/** prom-client's names for a GC's kind (its lib/metrics/gc.js). */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
/** How long a scrape that loads prom-client waits for the event loop monitor's first samples. */
const EVENT_LOOP_SAMPLES_MS = 25;
/** GCs kept for nodejs_gc_duration_seconds before the registry exists; more loads it. */
const GC_PENDING_LIMIT = 1000;

export interface LazyCounter<L extends string> {
  inc(labels: Partial<Record<L, string>>, n?: number): void;
}

export interface LazyHistogram<L extends string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
}

/**
 * A prom-client registry made when first needed, with every metric counting from the start:
 * metrics are declared at once (`counter`, `histogram`, `define`) and made when the registry
 * is; an `inc` or `observe` before that is queued, and loads prom-client right after the code
 * that counted it (setImmediate: never inside a request), then the queue is replayed in order.
 * The GCs before then are kept and given to the default metrics' GC histogram. So an idle
 * server that nobody scrapes never loads prom-client, and no count is lost.
 */
export class LazyRegistry {
  private built: { prom: PromClient; registry: Prom.Registry } | null = null;
  /** When the registry was made (performance.now()): its event loop monitor starts then. */
  private builtAt = 0;
  private readonly defs: ((prom: PromClient, registry: Prom.Registry) => void)[] = [];
  private readonly pending: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private gcs: PerformanceEntry[] = [];
  private gcObserver: PerformanceObserver | null;

  constructor() {
    this.defs.push((prom, registry) => prom.collectDefaultMetrics({ register: registry }));
    this.gcObserver = new PerformanceObserver((list) => {
      this.gcs.push(...list.getEntries());
      if (this.gcs.length >= GC_PENDING_LIMIT) this.buildSoon();
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  /** The registry, made now if it was not yet (the pending counts are in it). */
  registry(): Prom.Registry {
    return this.build().registry;
  }

  /**
   * The text exposition of the registry. When this scrape is what makes it, the default
   * metrics' event loop monitor (which samples every 10 ms) gets EVENT_LOOP_SAMPLES_MS first:
   * else the first scrape would show it empty (a minimum of 2^63 ns, a mean of NaN).
   */
  async metrics(): Promise<string> {
    const registry = this.registry();
    // Also for a scrape just after a count made it. (Two scrapes at once: prom-client resets
    // the monitor as it reads it, so the second shows it empty, lazy or not.)
    const young = EVENT_LOOP_SAMPLES_MS - (performance.now() - this.builtAt);
    if (young > 0) await delay(young);
    return registry.metrics();
  }

  /** `fn` makes metrics in the registry (now when it exists, else when it is made). */
  define(fn: (prom: PromClient, registry: Prom.Registry) => void): void {
    this.defs.push(fn);
    if (this.built) fn(this.built.prom, this.built.registry);
  }

  counter<L extends string>(config: Omit<Prom.CounterConfiguration<L>, 'registers'>): LazyCounter<L> {
    let made: Prom.Counter<L> | undefined;
    this.define((prom, registry) => (made = new prom.Counter({ ...config, registers: [registry] })));
    return { inc: (labels, n = 1) => this.run(() => made?.inc(labels, n)) };
  }

  histogram<L extends string>(config: Omit<Prom.HistogramConfiguration<L>, 'registers'>): LazyHistogram<L> {
    let made: Prom.Histogram<L> | undefined;
    this.define((prom, registry) => (made = new prom.Histogram({ ...config, registers: [registry] })));
    return { observe: (labels, value) => this.run(() => made?.observe(labels, value)) };
  }

  /** Stops keeping GCs (a registry never made is then left unmade). */
  close(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }

  private run(op: () => void): void {
    if (this.built) return op();
    this.pending.push(op);
    this.buildSoon();
  }

  private buildSoon(): void {
    this.scheduled ??= setImmediate(() => {
      this.scheduled = null;
      this.build();
    });
  }

  private build(): { prom: PromClient; registry: Prom.Registry } {
    if (this.built) return this.built;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const prom = createRequire(import.meta.url)(PROM_CLIENT) as PromClient;
    const registry = new prom.Registry();
    // Its own GC observer starts here: the GCs seen until now are handed over, none twice.
    const gcs = [...this.gcs, ...(this.gcObserver?.takeRecords() ?? [])];
    this.gcObserver?.disconnect();
    this.gcObserver = null;
    this.gcs = [];
    for (const def of this.defs) def(prom, registry);
    this.built = { prom, registry };
    this.builtAt = performance.now();
    const gcHistogram = registry.getSingleMetric('nodejs_gc_duration_seconds') as Prom.Histogram<'kind'> | undefined;
    for (const e of gcs) gcHistogram?.observe({ kind: GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] as string }, e.duration / 1000);
    for (const op of this.pending.splice(0)) op();
    return this.built;
  }
}
