import type { EventEmitter } from 'node:events';
import type { Config } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import type { Logger } from '../lib/log.js';
import type { RuntimeEvent } from '../runtime/protocol.js';
import { errorMessage } from '../lib/errors.js';
import { isFinal, type DeliveryEvent, type Job, type LogLine, type Store } from '../store/store.js';
import { listMirrorStatus } from '../store/mirror-status.js';
import { codeLabel, kindLabel, outcomeLabel, repoLabel, senderLabel, stepLabel } from './labels.js';
import { StepTimer, type StepEnd } from './steps.js';
import { scrapeGauges } from './gauges.js';
import { LazyRegistry, type LazyCounter, type LazyHistogram } from './lazy.js';
import { AUTH_FAILURES, LIMIT_NAMES, type HookLimits } from '../webhooks/hook-limits.js';

/** Seconds: a step or a job takes from well under a second to the 10 min job timeout. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Final jobs remembered so that one seen twice (an event repeated) is counted once. */
const SEEN_LIMIT = 10_000;

/**
 * The Prometheus metrics of one autopull (`GET /metrics`), in a registry of its own, so that
 * several servers in one process (tests) keep apart. Counters and histograms are fed by the
 * store's events (`delivery`, `job`, `log`) and the supervisors' (`spawn`, `exit`, `crash`),
 * as they happen; gauges are read at scrape time (gauges.ts). Every label value comes from a
 * closed set (labels.ts): no request can add a series. prom-client itself is loaded when a
 * metric first counts something or /metrics is first scraped (lazy.ts), counting from the start.
 *
 * An event handler never throws into the emitter: a fault here is logged and the job or
 * delivery that emitted it goes on.
 */
export class Metrics {
  private readonly registry = new LazyRegistry();
  private readonly deliveries: LazyCounter<'sender' | 'code'>;
  private readonly jobs: LazyCounter<'repo' | 'kind' | 'outcome'>;
  private readonly jobSeconds: LazyHistogram<'repo' | 'kind' | 'outcome'>;
  private readonly stepSeconds: LazyHistogram<'repo' | 'step' | 'outcome'>;
  private readonly pushToLive: LazyHistogram<'repo'>;
  private readonly mirrorFailures: LazyCounter<'repo' | 'state'>;
  private readonly appRestarts: LazyCounter<'repo'>;
  private readonly appCrashes: LazyCounter<'repo'>;
  private readonly steps = new StepTimer();
  private readonly seen = new Set<number>();
  private readonly detach: (() => void)[] = [];
  private hookLimits: HookLimits | undefined;

  private readonly ref: ConfigRef;
  /** Supervisors watched already: a repo removed and added again by reloads is counted once. */
  private readonly watched = new WeakSet<EventEmitter>();

  constructor(
    config: Config | ConfigRef,
    private readonly store: Store,
    private readonly logger?: Logger,
  ) {
    this.ref = ConfigRef.of(config);
    const r = this.registry;
    this.deliveries = r.counter({ name: 'autopull_deliveries_total', help: 'Webhook deliveries answered, by recognised sender and HTTP status', labelNames: ['sender', 'code'] });
    this.jobs = r.counter({ name: 'autopull_jobs_total', help: 'Jobs that ended, by repo, kind and final state', labelNames: ['repo', 'kind', 'outcome'] });
    this.jobSeconds = r.histogram({ name: 'autopull_job_duration_seconds', help: 'Time from a job start to its end', labelNames: ['repo', 'kind', 'outcome'], buckets: DURATION_BUCKETS });
    this.stepSeconds = r.histogram({ name: 'autopull_step_duration_seconds', help: 'Time a job step took, by the first word of its name (fetch, build, switch, ...)', labelNames: ['repo', 'step', 'outcome'], buckets: DURATION_BUCKETS });
    this.pushToLive = r.histogram({ name: 'autopull_push_to_live_seconds', help: 'Time from the first delivery of a push to its release live and healthy (deploy jobs that succeeded)', labelNames: ['repo'], buckets: DURATION_BUCKETS });
    this.mirrorFailures = r.counter({ name: 'autopull_mirror_failures_total', help: 'Mirror pushes to a target that failed or left diverged refs', labelNames: ['repo', 'state'] });
    this.appRestarts = r.counter({ name: 'autopull_app_restarts_total', help: 'Supervised app processes started again after they ended on their own', labelNames: ['repo'] });
    this.appCrashes = r.counter({ name: 'autopull_app_crashes_total', help: 'Supervised app processes that ended before deploy.min_uptime', labelNames: ['repo'] });
    scrapeGauges(this.registry, () => this.ref.current, store);
    this.listen(store, 'delivery', (e: DeliveryEvent) => this.onDelivery(e));
    this.listen(store, 'job', (id: number) => this.onJob(id));
    this.listen(store, 'log', (l: LogLine) => this.onLog(l));
  }

  get contentType(): string {
    return this.registry.registry().contentType;
  }

  /** The text exposition format, as Prometheus scrapes it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Counts a supervised app's restarts and crashes. A restart is a start that follows an exit
   * the supervisor did not ask for (its backoff restart, or the next deploy's start).
   */
  /** The config in force (labels follow a reload's repos). */
  private get config(): Config {
    return this.ref.current;
  }

  watchApp(repo: string, sup: EventEmitter): void {
    if (this.watched.has(sup)) return;
    this.watched.add(sup);
    const label = { repo: repoLabel(this.config, repo) };
    let exited = false;
    this.listen(sup, 'exit', () => (exited = true));
    this.listen(sup, 'crash', () => this.appCrashes.inc(label));
    this.listen(sup, 'spawn', () => {
      if (exited) this.appRestarts.inc(label);
      exited = false;
    });
  }

  /**
   * Counts the restarts and crashes of app instances behind the proxy, from the events the
   * runtime pushes to serve: an `exit` it starts again after (`restarting`) is a restart, one
   * before min_uptime a crash. Events come while serve is connected to the runtime.
   */
  watchProxied(apps: { onEvent(fn: (e: RuntimeEvent) => void): () => void }): void {
    const off = apps.onEvent((e) => {
      try {
        if (e.event !== 'exit') return;
        const label = { repo: repoLabel(this.config, e.repo) };
        if (e.crash) this.appCrashes.inc(label);
        if (e.restarting) this.appRestarts.inc(label);
      } catch (err) {
        this.logger?.warn({ err }, `metrics: runtime event: ${errorMessage(err)}`);
      }
    });
    this.detach.push(off);
  }

  /**
   * The webhook routes' failed authentications (by reason) and rate-limited answers (by
   * limit), read from `limits` at scrape time: the routes only add to plain numbers. The
   * last limits given win (one HTTP app per server).
   */
  watchHookLimits(limits: HookLimits): void {
    const first = this.hookLimits === undefined;
    this.hookLimits = limits;
    if (!first) return;
    const read = () => this.hookLimits;
    // Read at scrape time: these count from the start with nothing queued.
    this.registry.define((prom, registry) => {
      new prom.Counter({
        name: 'autopull_auth_failures_total',
        help: 'Webhook deliveries refused for their credential or address, or for no configured repo or sender (answered 401, 403, 404 or 400), by reason',
        labelNames: ['reason'],
        registers: [registry],
        collect() {
          this.reset();
          for (const reason of AUTH_FAILURES) this.inc({ reason }, read()?.authFailures[reason] ?? 0);
        },
      });
      new prom.Counter({
        name: 'autopull_rate_limited_total',
        help: 'Webhook deliveries answered 429 (limits.rate), by the limit that refused them',
        labelNames: ['limit'],
        registers: [registry],
        collect() {
          this.reset();
          for (const limit of LIMIT_NAMES) this.inc({ limit }, read()?.limited[limit] ?? 0);
        },
      });
    });
  }

  /** Stops listening (the store and the apps outlive a closed app in tests). */
  close(): void {
    for (const off of this.detach.splice(0)) off();
    this.registry.close();
  }

  private listen<A extends unknown[]>(emitter: EventEmitter, event: string, fn: (...args: A) => void): void {
    const safe = (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.logger?.warn({ err }, `metrics: ${event} event: ${errorMessage(err)}`);
      }
    };
    emitter.on(event, safe as (...args: unknown[]) => void);
    this.detach.push(() => emitter.off(event, safe as (...args: unknown[]) => void));
  }

  private onDelivery(e: DeliveryEvent): void {
    this.deliveries.inc({ sender: senderLabel(e.provider), code: codeLabel(e.status_code) });
  }

  private onLog(l: LogLine): void {
    if (l.stream !== 'step' && l.stream !== 'info') return;
    const ended = this.steps.line(l);
    if (ended) this.observeStep(ended);
  }

  private onJob(id: number): void {
    if (this.seen.has(id)) return;
    const job = this.store.getJob(id);
    if (!job || !isFinal(job.state)) return;
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as number);
    const repo = repoLabel(this.config, job.repo);
    const labels = { repo, kind: kindLabel(job.kind), outcome: outcomeLabel(job.state) };
    this.jobs.inc(labels);
    const seconds = between(job.started_at, job.finished_at);
    if (seconds !== null) this.jobSeconds.observe(labels, seconds);
    for (const s of this.steps.jobEnded(id)) this.observeStep(s, job);
    if (job.kind === 'deploy' && job.state === 'succeeded' && job.release !== null) {
      const toLive = between(this.store.firstDeliveryAt(id), job.finished_at);
      if (toLive !== null) this.pushToLive.observe({ repo }, toLive);
    }
    this.countMirrorFailures(job, repo);
  }

  /** The targets this job pushed to that failed or diverged (mirror_status keeps each target's last job). */
  private countMirrorFailures(job: Job, repo: string): void {
    if (!this.config.repos.get(job.repo as never)?.mirror?.length) return;
    for (const m of listMirrorStatus(this.store.db, job.repo)) {
      if (m.last_job === job.id && m.state !== 'ok') this.mirrorFailures.inc({ repo, state: m.state === 'diverged' ? 'diverged' : 'failed' });
    }
  }

  private observeStep(s: StepEnd, job?: Job): void {
    const repo = job?.repo ?? this.store.getJob(s.job)?.repo;
    if (repo === undefined) return;
    this.stepSeconds.observe({ repo: repoLabel(this.config, repo), step: stepLabel(s.name), outcome: s.ok ? 'succeeded' : 'failed' }, s.seconds);
  }
}

/** Seconds from one ISO time to another, or null when either is missing or they are out of order. */
function between(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : null;
}
