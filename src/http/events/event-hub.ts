import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Limits } from '../../config/schema.js';
import type { Job, LogLine, Store } from '../../store/store.js';
import type { Logger } from '../../lib/log.js';
import { deliveryEvent, jobEvent } from './payloads.js';
import { SseStream, type SseOptions } from './sse-stream.js';

export interface EventOptions extends SseOptions {
  /** Open event streams in all; one more is answered 503. */
  maxClients: number;
  /** How many recent events of GET /api/events a reconnecting client can get again. */
  replay: number;
}

/**
 * The event streams' limits: a heartbeat well inside limits.request_timeout (a third of
 * it, at most 15 s: proxies such as nginx cut a silent response after 60 s), 1 MiB unread
 * per client, 64 streams at once (each holds a connection; limits.connections_per_address
 * still bounds one address). Tests pass smaller ones.
 */
export function eventOptions(limits: Limits, override: Partial<EventOptions> = {}): EventOptions {
  return {
    heartbeatMs: Math.max(50, Math.min(15_000, Math.floor(limits.request_timeout / 3))),
    bufferCap: 1024 * 1024,
    retryMs: 2000,
    maxClients: 64,
    replay: 500,
    ...override,
  };
}

export interface FeedEntry {
  n: number;
  type: 'job' | 'delivery';
  ref: number;
  data?: Record<string, unknown> | null;
}

export interface JobListener {
  state(job: Job): void;
  line(line: LogLine): void;
}

/**
 * Fans the store's events (`job`, `log`, `delivery`, each emitted after its commit) out to
 * the open event streams, with one listener per event on the store however many streams
 * are open. Keeps the last `replay` entries of the all-events feed, so a client that
 * reconnects with Last-Event-ID gets what it missed; an id from before that (or from a
 * previous run of the server: ids carry a per-run prefix) gets a `reset` event instead.
 */
export class EventHub {
  readonly run = randomBytes(4).toString('hex');
  private readonly streams = new Set<SseStream>();
  private readonly feed: FeedEntry[] = [];
  private next = 1;
  private readonly feedListeners = new Set<(e: FeedEntry) => void>();
  private readonly jobListeners = new Map<number, Set<JobListener>>();
  private readonly onJob = (id: number) => this.jobChanged(id);
  private readonly onLog = (line: LogLine) => {
    for (const l of this.jobListeners.get(line.job_id) ?? []) l.line(line);
  };
  private readonly onDelivery = (d: { id: number }) => this.append({ n: this.next++, type: 'delivery', ref: d.id });

  constructor(
    private readonly store: Store,
    readonly options: EventOptions,
    private readonly log: Logger,
  ) {
    store.on('job', this.onJob);
    store.on('log', this.onLog);
    store.on('delivery', this.onDelivery);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream on the response, or returns null when maxClients are open. */
  open(req: IncomingMessage, res: ServerResponse): SseStream | null {
    if (this.streams.size >= this.options.maxClients) return null;
    const stream = new SseStream(req, res, this.options);
    this.streams.add(stream);
    stream.onClose(() => {
      this.streams.delete(stream);
      if (stream.overflowed) this.log.warn({ url: req.url, unread_limit: this.options.bufferCap }, `closed an event stream of ${req.url}: its client left more than ${this.options.bufferCap} bytes unread`);
    });
    return stream;
  }

  feedId(n: number): string {
    return `${this.run}-${n}`;
  }

  /** Entries after a Last-Event-ID, or null when that id is not one this feed can resume from. */
  feedAfter(lastId: string): FeedEntry[] | null {
    const m = /^([0-9a-f]+)-(\d{1,15})$/.exec(lastId.trim());
    if (!m || m[1] !== this.run) return null;
    const n = Number(m[2]);
    const oldest = this.feed[0]?.n ?? this.next;
    if (n < oldest - 1 || n >= this.next) return null;
    return this.feed.filter((e) => e.n > n);
  }

  onFeed(fn: (e: FeedEntry) => void): () => void {
    this.feedListeners.add(fn);
    return () => this.feedListeners.delete(fn);
  }

  onJobEvents(id: number, listener: JobListener): () => void {
    const set = this.jobListeners.get(id) ?? new Set();
    set.add(listener);
    this.jobListeners.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.jobListeners.delete(id);
    };
  }

  /** The event's data, read from the store when first asked (null when the row is gone). */
  payload(e: FeedEntry): Record<string, unknown> | null {
    if (e.data === undefined) {
      if (e.type === 'job') {
        const job = this.store.getJob(e.ref);
        e.data = job ? jobEvent(job) : null;
      } else {
        const d = this.store.getDelivery(e.ref);
        e.data = d ? deliveryEvent(d) : null;
      }
    }
    return e.data;
  }

  /** Stops listening and ends every open stream (before the server closes: open streams would hold it). */
  close(): void {
    this.store.off('job', this.onJob);
    this.store.off('log', this.onLog);
    this.store.off('delivery', this.onDelivery);
    for (const s of [...this.streams]) s.end();
  }

  private jobChanged(id: number): void {
    const entry: FeedEntry = { n: this.next++, type: 'job', ref: id };
    const listeners = this.jobListeners.get(id);
    if (listeners && listeners.size > 0) {
      const job = this.store.getJob(id);
      if (job) {
        entry.data = jobEvent(job);
        for (const l of listeners) l.state(job);
      }
    }
    this.append(entry);
  }

  private append(e: FeedEntry): void {
    this.feed.push(e);
    if (this.feed.length > this.options.replay) this.feed.shift();
    for (const fn of this.feedListeners) fn(e);
  }
}
