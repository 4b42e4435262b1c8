import type { NotifyTarget } from '../config/schema.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { VERSION } from '../lib/version.js';
import { signStandardWebhook } from '../webhooks/standard-webhooks.js';

/** One message to one receiver. `id` is stable across retries (the receiver's dedupe key). */
export interface Outgoing {
  target: NotifyTarget;
  id: string;
  body: string;
  /** Log fields (repo, job, event): never the url's path or the secret. */
  about: Record<string, unknown>;
}

export interface SenderOptions {
  /** First retry delay; each next one doubles (jittered by up to a quarter). Default 1 s. */
  backoffMs?: number;
  /** Messages waiting or in flight at most; more are dropped with a warning. */
  maxPending?: number;
}

/**
 * A receiver's url as logs show it: scheme and host only, since the path of a Slack or
 * Discord incoming-webhook url is itself the credential.
 */
export function receiverLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/...' : ''}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Sends notifications: a POST per message, each attempt bounded by the receiver's
 * `timeout`, failed attempts (connection refused, timeout, any answer but 2xx) retried
 * `retries` times with backoff. Nothing here is awaited by a job: `send` returns at once and
 * a receiver that fails or hangs costs a timer and a socket, never a deploy's time. The
 * webhook-id stays the same across retries; timestamp and signature are made per attempt
 * (Standard Webhooks receivers refuse a timestamp older than 5 minutes).
 */
export class Sender {
  private readonly halt = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, Outgoing>();
  private stopping = false;
  /** Messages not yet delivered or given up on, and who waits for none to be left. */
  private pending = 0;
  private waiters: (() => void)[] = [];
  private readonly backoffMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly logger: Logger,
    opts: SenderOptions = {},
  ) {
    this.backoffMs = opts.backoffMs ?? 1000;
    this.maxPending = opts.maxPending ?? 1000;
  }

  send(o: Outgoing): void {
    if (this.stopping) return;
    if (this.pending >= this.maxPending) {
      this.logger.warn({ ...o.about, receiver: receiverLabel(o.target.url) }, `notification dropped: ${this.maxPending} are already waiting (is a receiver down?)`);
      return;
    }
    this.pending++;
    this.attempt(o, 1);
  }

  private done(): void {
    if (--this.pending > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private attempt(o: Outgoing, n: number): void {
    const p = this.post(o).then(
      () => {
        this.logger.info({ ...o.about, receiver: receiverLabel(o.target.url), attempt: n }, `notification sent to ${receiverLabel(o.target.url)}`);
        this.done();
      },
      (err: unknown) => this.failed(o, n, errorMessage(err)),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private failed(o: Outgoing, n: number, problem: string): void {
    const receiver = receiverLabel(o.target.url);
    if (this.stopping || n > o.target.retries) {
      const why = this.stopping ? 'autopull is stopping' : `gave up after ${n} attempt${n === 1 ? '' : 's'}`;
      this.logger.warn({ ...o.about, receiver, attempts: n }, `notification to ${receiver} failed (${problem}); ${why}`);
      this.done();
      return;
    }
    const delayMs = Math.round(this.backoffMs * 2 ** (n - 1) * (1 + Math.random() / 4));
    this.logger.info({ ...o.about, receiver, attempt: n }, `notification to ${receiver} failed (${problem}); retry in ${delayMs} ms`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.attempt(o, n + 1);
    }, delayMs);
    this.timers.set(timer, o);
  }

  private async post(o: Outgoing): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `autopull/${VERSION}`,
      'webhook-id': o.id,
      'webhook-timestamp': String(timestamp),
    };
    if (o.target.secret) headers['webhook-signature'] = signStandardWebhook(o.target.secret, o.id, timestamp, o.body);
    const signal = AbortSignal.any([AbortSignal.timeout(o.target.timeout), this.halt.signal]);
    let res: Response;
    try {
      // redirect: manual: a 3xx is an answer to fix in the config, not a place to send the body.
      res = await fetch(o.target.url, { method: 'POST', headers, body: o.body, signal, redirect: 'manual' });
    } catch (err) {
      if (signal.aborted) throw new Error(this.halt.signal.aborted ? 'aborted at stop' : `no answer within ${o.target.timeout} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(cause?.code ?? cause?.message ?? errorMessage(err));
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
  }

  /** Resolves when nothing is in flight or waiting for a retry (tests). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Stops: waiting retries are dropped (logged), attempts in flight get `graceMs` to finish,
   * then they are aborted. Bounded, so a hanging receiver never holds up a stop.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    for (const [timer, o] of this.timers) {
      clearTimeout(timer);
      this.logger.warn({ ...o.about, receiver: receiverLabel(o.target.url) }, 'notification retry dropped: autopull is stopping');
      this.done();
    }
    this.timers.clear();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
    this.halt.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
