import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../lib/log.js';
import { peerTrusted, type TrustProxySetting } from '../lib/trust-proxy.js';
import { answer, answerRaw, noTargetMessage, RETRY_AFTER_S } from './answers.js';
import { proxyClientErrorHandler } from './client-errors.js';
import { forwardRequest, type UpstreamFailureReport } from './forward-request.js';
import { forwardUpgrade } from './forward-upgrade.js';
import { requestHeaders, type RawHeaders } from './headers.js';
import { Routing } from './routing.js';
import type { DrainResult, TargetSpec, UpstreamOptions } from './target.js';

export interface ProxyOptions {
  /** Whose X-Forwarded-* to keep and append to (trust_proxy); default false: replaced by what the proxy saw. */
  trustProxy?: TrustProxySetting;
  log?: Logger;
  /** Connecting to an instance (loopback: refused at once when it is gone); default 5 s. */
  connectTimeoutMs?: number;
  /** How long an instance may take to start its answer before the client gets a 504; default 300 s. */
  upstreamHeadersTimeoutMs?: number;
  /** Idle kept-alive connections to an instance close after this (or the app's Keep-Alive hint); default 4 s. */
  upstreamKeepAliveMs?: number;
  /** Clients: request line and headers within this (408 after); default 10 s. */
  headerTimeoutMs?: number;
  /** Clients: the whole request, body included, within this (408 after); default 300 s: uploads are slow. */
  requestTimeoutMs?: number;
  /** Clients: an idle kept-alive connection closes after this; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Request line and headers together, and an instance's answer headers (431 / 502 above); default 16 KiB. */
  maxHeaderSize?: number;
  /** Open client connections in all; more are closed at accept. Default 4096 (each costs two descriptors). */
  maxConnections?: number;
  /**
   * A budget shared with the process's other proxies (the runtime runs one per repo): open
   * client connections of all of them together; one over it is closed at once. Without it,
   * each proxy's maxConnections alone would let N repos hold N times the descriptors.
   */
  budget?: ConnectionBudget;
}

/** Client connections open across several proxies of one process, and how many they may have. */
export class ConnectionBudget {
  open = 0;
  constructor(readonly max: number) {}
}

export interface Proxy {
  /** Starts accepting clients on host:port (port 0: any free one). */
  listen(host: string, port: number): Promise<AddressInfo>;
  /**
   * Sends every request and upgrade that arrives after this returns to `target` (null: none,
   * clients get 503). The previous target keeps what it has in flight; `drained` resolves
   * when it has nothing open, or at drainMs, when what remains has been closed cleanly.
   */
  route(target: TargetSpec | null, opts: { drainMs: number }): { drained: Promise<DrainResult> };
  /** Where new traffic goes now. */
  target(): TargetSpec | null;
  /** Whose X-Forwarded-* to believe from now on (trust_proxy changed; the listener stays). */
  setTrustProxy(trust: TrustProxySetting): void;
  /** Requests in flight and upgraded connections open on the target `id` (current or draining). */
  open(id: string): { requests: number; sockets: number };
  /** Stops accepting, closes what is open (cleanly, as a drain's deadline would) and every pool. */
  close(): Promise<void>;
}

/** Logs an instance's failures at most once per 10 s per instance and cause, with how many there were. */
function throttledReport(log: Logger | undefined): UpstreamFailureReport {
  const last = new Map<string, { at: number; count: number }>();
  return (target, err) => {
    if (!log) return;
    const key = `${target.id}\0${err.code ?? err.name}`;
    const s = last.get(key) ?? { at: 0, count: 0 };
    s.count++;
    last.set(key, s);
    const now = Date.now();
    if (now - s.at < 10_000) return;
    log.warn({ target: target.id, port: target.port, code: err.code, failures: s.count }, `proxy: app instance ${target.id} (127.0.0.1:${target.port}) failed: ${err.message}`);
    s.at = now;
    s.count = 0;
  };
}

/**
 * The forwarding engine for `deploy.proxy`: an HTTP server that sends each request and
 * upgrade to the instance routed now, over a kept-alive connection pool per instance, and
 * lets the previous instance finish what it has before it is closed.
 */
export function createProxy(o: ProxyOptions = {}): Proxy {
  const limits = { headerTimeoutMs: o.headerTimeoutMs ?? 10_000, requestTimeoutMs: o.requestTimeoutMs ?? 300_000, maxHeaderSize: o.maxHeaderSize ?? 16 * 1024 };
  const upstream: UpstreamOptions = {
    connectTimeoutMs: o.connectTimeoutMs ?? 5000,
    headersTimeoutMs: o.upstreamHeadersTimeoutMs ?? 300_000,
    keepAliveTimeoutMs: o.upstreamKeepAliveMs ?? 4000,
    maxHeaderSize: limits.maxHeaderSize,
  };
  let trust = o.trustProxy ?? false;
  const report = throttledReport(o.log);
  const routing = new Routing(upstream);

  const headersFor = (req: IncomingMessage): RawHeaders => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    return requestHeaders(req.rawHeaders, { peer, trusted: peerTrusted(trust, peer), proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http' });
  };

  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? 5000,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headerTimeoutMs / 4))),
    noDelay: true,
  });
  server.maxConnections = o.maxConnections ?? 4096;
  const budget = o.budget;
  if (budget) {
    server.on('connection', (socket: Socket) => {
      if (budget.open >= budget.max) return void socket.destroy();
      budget.open++;
      socket.once('close', () => budget.open--);
    });
  }
  server.on('clientError', proxyClientErrorHandler(limits));
  server.on('request', (req, res) => {
    const t = routing.now(); // chosen once, on arrival: route() takes effect for what arrives after it
    if (!t) return answer(req, res, 'unavailable', noTargetMessage(), { 'retry-after': String(RETRY_AFTER_S) });
    forwardRequest(req, res, t, headersFor(req), report);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const t = routing.now();
    socket.setTimeout(0); // an open WebSocket may be quiet for long; its end is the app's or the client's call
    if (!t) return answerRaw(socket, 'unavailable', noTargetMessage(), `retry-after: ${RETRY_AFTER_S}\r\n`);
    forwardUpgrade(req, socket, head, t, headersFor(req), report);
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => answerRaw(socket, 'method_not_allowed', 'CONNECT is not supported: this is a reverse proxy'));

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),

    route: (spec, { drainMs }) => ({ drained: routing.route(spec, drainMs) }),

    target: () => {
      const t = routing.now();
      return t ? { id: t.id, port: t.port } : null;
    },

    open: (id) => routing.open(id),

    setTrustProxy: (t) => {
      trust = t;
    },

    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await routing.closeAll('the proxy is stopping');
      server.closeAllConnections();
      await closed;
    },
  };
}
