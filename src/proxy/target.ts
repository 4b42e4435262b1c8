import { Pool } from 'undici';

/** Where traffic goes: one running instance of an app, on a loopback port. */
export interface TargetSpec {
  /** Names the instance (say the release id); a later route() to the same id means the same instance. */
  id: string;
  port: number;
}

/** How a route() left the target it replaced. */
export interface DrainResult {
  /** The target that was drained, or null when there was none before. */
  id: string | null;
  /**
   * `idle`: nothing was open any more; `timeout`: drainMs passed and what was still open was
   * closed; `rerouted`: traffic was routed back to it before it drained (it serves on);
   * `none`: there was nothing to drain (no previous target, or the same one again).
   */
  outcome: 'idle' | 'timeout' | 'rerouted' | 'none';
  /** What drainMs cut: requests answered or ended early, upgraded connections closed. */
  closed: { requests: number; sockets: number };
}

/** One proxied exchange (a request, or an upgraded connection) as the drain sees it. */
export interface Exchange {
  /** Ends it as cleanly as it can be ended now; resolves when its sockets are closed. */
  close(reason: string): Promise<void>;
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** How long the app may take to start its answer (504 after). */
  headersTimeoutMs: number;
  /** An idle kept-alive upstream connection is closed after this long (or the app's own hint). */
  keepAliveTimeoutMs: number;
  maxHeaderSize: number;
}

interface Draining {
  timer: NodeJS.Timeout | null;
  finish: (result: DrainResult) => void;
  cut: (reason: string) => void;
}

/**
 * A target and what is open on it: its connection pool (kept-alive connections, reused), its
 * requests in flight and its upgraded connections. Once traffic moves elsewhere, drain()
 * waits for them to end or closes them at the deadline.
 */
export class Target {
  readonly id: string;
  readonly port: number;
  readonly pool: Pool;
  readonly requests = new Set<Exchange>();
  readonly sockets = new Set<Exchange>();
  private draining: Draining | null = null;
  private drainDone: Promise<DrainResult> | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(spec: TargetSpec, o: UpstreamOptions) {
    this.id = spec.id;
    this.port = spec.port;
    this.pool = new Pool(`http://127.0.0.1:${spec.port}`, {
      connect: { timeout: o.connectTimeoutMs },
      headersTimeout: o.headersTimeoutMs,
      // A stream (SSE, a long download) may be quiet for long: the client decides when it has waited enough.
      bodyTimeout: 0,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      maxHeaderSize: o.maxHeaderSize,
      // One upstream connection per request in flight at most, and those are bounded by the client connections.
      connections: null,
    });
  }

  /** Counts `exchange` as open on this target until the returned function is called. */
  track(kind: 'requests' | 'sockets', exchange: Exchange): () => void {
    this[kind].add(exchange);
    return () => {
      if (!this[kind].delete(exchange)) return;
      if (this.requests.size === 0 && this.sockets.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  open(): { requests: number; sockets: number } {
    return { requests: this.requests.size, sockets: this.sockets.size };
  }

  /** Draining: no new traffic, waiting for what is open. A rerouted draining target serves on. */
  get isDraining(): boolean {
    return this.draining !== null;
  }

  /** Past draining: its pool is closing, so traffic routed to this id again needs a new Target. */
  closing = false;

  /**
   * Waits until nothing is open, or until drainMs, then closes what is left. Resolves after
   * the pool is closed too. Cancelled by undrain() (the result then says `rerouted`).
   */
  drain(drainMs: number): Promise<DrainResult> {
    this.drainDone = new Promise<DrainResult>((resolve) => {
      const finish = (result: DrainResult) => {
        if (this.draining !== state) return;
        if (state.timer) clearTimeout(state.timer);
        this.draining = null;
        resolve(result);
      };
      const idle = () => {
        if (this.closing || this.draining !== state) return;
        this.closing = true;
        if (state.timer) clearTimeout(state.timer);
        void this.pool.close().then(() => finish({ id: this.id, outcome: 'idle', closed: { requests: 0, sockets: 0 } }));
      };
      const cut = (reason: string) => {
        if (this.closing || this.draining !== state) return;
        this.closing = true;
        this.idleWaiters = this.idleWaiters.filter((w) => w !== idle);
        void this.closeAll(reason).then((closed) => finish({ id: this.id, outcome: 'timeout', closed }));
      };
      const state: Draining = { timer: null, finish, cut };
      this.draining = state;
      if (this.requests.size === 0 && this.sockets.size === 0) return idle();
      this.idleWaiters.push(idle);
      const reason = `the app instance that took this request was replaced, and the request did not finish within the drain timeout (${drainMs} ms)`;
      if (drainMs <= 0) return cut(reason);
      state.timer = setTimeout(() => cut(reason), drainMs);
    });
    return this.drainDone;
  }

  /** Traffic comes back before the drain ended (and before it started closing): stop draining, keep the pool. */
  undrain(): void {
    this.idleWaiters = [];
    this.draining?.finish({ id: this.id, outcome: 'rerouted', closed: { requests: 0, sockets: 0 } });
  }

  /** Ends a drain now, as its deadline would, for `reason` (the proxy is stopping); resolves when it is over. */
  async cutDrain(reason: string): Promise<void> {
    this.draining?.cut(reason);
    await this.drainDone;
  }

  /** Closes every open exchange (each as cleanly as it can be), then the pool. */
  async closeAll(reason: string): Promise<{ requests: number; sockets: number }> {
    const requests = [...this.requests];
    const sockets = [...this.sockets];
    await Promise.all([...requests, ...sockets].map((e) => e.close(reason)));
    await this.pool.destroy();
    return { requests: requests.length, sockets: sockets.length };
  }
}
