import { isIP, isIPv4, isIPv6, type Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Limits } from '../config/schema.js';
import type { Logger } from '../lib/log.js';
import { AppError } from '../lib/errors.js';
import { openFileLimit, parseOpenFileLimit } from '../lib/fd-limit.js';
import { clientErrorHandler, rawJsonAnswer } from './client-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The client's address (req.ip: the peer, or X-Forwarded-For per trust_proxy) taken when
     * the request arrived, never read lazily later: after a reset the socket forgets its peer.
     */
    clientAddress: string;
  }
}

/**
 * Connection limits of the HTTP server (limits: in the config). Every connection passes the
 * gate installed by guardConnections before Node's HTTP parser sees a byte of it.
 */

/** Descriptors kept for everything but HTTP clients: SQLite, logs, git and build children, apps. */
export const FD_RESERVE = 256;
/** Connections over max_connections that may be answering their 503 at once; more are closed at accept. */
export const SHED_ALLOWANCE = 64;
/** Headers past this count are dropped by Node; max_header_size bounds their bytes anyway. */
export const MAX_HEADERS_COUNT = 256;
export { openFileLimit, parseOpenFileLimit };

/** limits.max_connections, or min(4096, what the open-file limit leaves after the reserve and the shed allowance). */
export function maxConnections(limits: Limits, fdLimit: number): number {
  return limits.max_connections ?? Math.min(4096, Math.max(16, fdLimit - FD_RESERVE - SHED_ALLOWANCE));
}

/** The 8 groups of an IPv6 address, "::" expanded (an embedded IPv4 tail counts as 2). */
function ipv6Groups(address: string): string[] {
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['v4', 'v4'] : [g])));
  const [head = '', tail] = address.split('::');
  if (tail === undefined) return groups(head);
  const h = groups(head);
  const t = groups(tail);
  return [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
}

/**
 * The key a connection counts under for connections_per_address: the address itself for IPv4
 * (also IPv4-mapped IPv6), its /64 for IPv6, since one client typically holds a whole /64.
 */
export function addressKey(address: string): string {
  const plain = address.split('%')[0] as string;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(plain)) return plain;
  const prefix = ipv6Groups(plain).slice(0, 4).map((g) => parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The /48 of an IPv6 address ("2001:db8:1::/48"); null for IPv4 (also IPv4-mapped IPv6). */
export function wideAddressKey(address: string): string | null {
  const plain = address.split('%')[0] as string;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(plain) || !isIPv6(plain)) return null;
  return `${ipv6Groups(plain).slice(0, 3).map((g) => parseInt(g, 16).toString(16)).join(':')}::/48`;
}

const ADDRESS = new WeakMap<Socket, string>();
/** The address recorded for a connection whose peer was already gone when it was accepted. */
export const UNKNOWN = 'unknown';

/** The peer address read when the connection was accepted: still there after the peer reset it. */
export function connectionAddress(socket: Socket | undefined): string | undefined {
  return socket ? ADDRESS.get(socket) : undefined;
}

/**
 * Answers `answer` and closes: reads and drops what the client sends meanwhile (so the close is
 * a FIN, not a reset that could discard the answer), and destroys the socket when the client
 * closes its side or after 1 s at most.
 */
function answerAndClose(socket: Socket, answer: string): void {
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.setTimeout(1000, () => socket.destroy());
  socket.resume();
  socket.end(answer);
}

interface GuardOptions {
  perAddress: number;
  max: number;
  log: Logger;
}

/** Logs at most one line per 10 s per reason under a flood, with the count since the last one. */
function throttledWarn(log: Logger): (reason: string, address: string) => void {
  const state = new Map<string, { count: number; at: number }>();
  return (reason, address) => {
    const s = state.get(reason) ?? { count: 0, at: 0 };
    s.count++;
    state.set(reason, s);
    const now = Date.now();
    if (now - s.at < 10_000) return;
    log.warn({ refused: s.count, example_address: address }, `refused ${s.count} connection${s.count === 1 ? '' : 's'}: ${reason}`);
    s.count = 0;
    s.at = now;
  };
}

/**
 * Puts a gate in front of the HTTP server's own 'connection' handling: a connection over
 * `perAddress` from one address is destroyed at once; one over `max` in all gets a 503 JSON
 * answer and is closed; past max + SHED_ALLOWANCE Node closes new ones at accept. Admitted
 * connections have their address recorded (connectionAddress) and go on to the HTTP parser.
 * Must run before listen and before anything else adds 'connection' listeners.
 */
export function guardConnections(server: Server, o: GuardOptions): void {
  const downstream = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const perKey = new Map<string, number>();
  let open = 0;
  const warn = throttledWarn(o.log);
  const overloaded = rawJsonAnswer('overloaded', `autopull is at its limit of ${o.max} open connections (limits.max_connections); try again shortly`, 'retry-after: 5\r\n');
  server.on('connection', (socket: Socket) => {
    // Read once, now: after a reset the socket no longer knows its peer. A peer that reset
    // before the connection was accepted has no address even now, yet what it sent is still
    // readable (a complete delivery, say): it counts under "unknown".
    const address = socket.remoteAddress;
    const key = address === undefined ? UNKNOWN : addressKey(address);
    const mine = perKey.get(key) ?? 0;
    if (mine >= o.perAddress) {
      warn(`more than ${o.perAddress} open connections from one address (limits.connections_per_address)`, key);
      return void socket.destroy();
    }
    if (open >= o.max) {
      warn(`more than ${o.max} open connections (limits.max_connections)`, key);
      return answerAndClose(socket, overloaded);
    }
    open++;
    perKey.set(key, mine + 1);
    if (address !== undefined) ADDRESS.set(socket, address);
    socket.once('close', () => {
      open--;
      const left = (perKey.get(key) ?? 1) - 1;
      if (left > 0) perKey.set(key, left);
      else perKey.delete(key);
    });
    for (const listener of downstream) listener.call(server, socket);
  });
  // HTTPS: requests see the TLS socket wrapped around the one recorded above.
  server.on('secureConnection', (tlsSocket: Socket) => {
    if (tlsSocket.remoteAddress !== undefined) ADDRESS.set(tlsSocket, tlsSocket.remoteAddress);
  });
  server.maxConnections = o.max + SHED_ALLOWANCE;
}

/**
 * The options of Fastify() that bound slow clients: headers within header_timeout, the whole
 * request within request_timeout (both checked every connectionsCheckingInterval), a
 * kept-alive connection idle for keep_alive_timeout is closed, and so is one on which nothing
 * moves either way for request_timeout. Errors of the HTTP layer answer in JSON.
 */
export function serverLimitOptions(limits: Limits) {
  return {
    requestTimeout: limits.request_timeout,
    keepAliveTimeout: limits.keep_alive_timeout,
    connectionTimeout: limits.request_timeout,
    http: {
      headersTimeout: limits.header_timeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.header_timeout / 4))),
      maxHeaderSize: limits.max_header_size,
      // Node would answer a request without Host (or with Host past the header count) with a bare 400 of its own; the app answers in JSON.
      requireHostHeader: false,
    },
    clientErrorHandler: clientErrorHandler(limits),
  } satisfies Partial<FastifyServerOptions> & { http: object };
}

/**
 * The address in a client address as a trusted proxy may write it: `1.2.3.4`, `1.2.3.4:5678`,
 * `::1`, `[::1]` or `[::1]:5678` (some proxies append the client's port to X-Forwarded-For).
 * Anything else is undefined, and the caller falls back to the TCP peer: a proxy that passes
 * on text that is no address must not give each request a key of its own (no rate limit would
 * hold) nor one that allow_ips could never match.
 */
export function plainAddress(ip: string | undefined): string | undefined {
  if (ip === undefined || ip === '') return undefined;
  if (isIP(ip) !== 0) return ip;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(ip);
  if (v4 && isIPv4(v4[1] as string)) return v4[1];
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/.exec(ip);
  if (v6 && isIPv6(v6[1] as string)) return v6[1];
  return undefined;
}

/**
 * The rest, on the built app and before it listens: the connection gate (per address and in
 * all, sized from the open-file limit), the header count, and an onRequest hook that records
 * req.clientAddress and answers 414 for a URL over max_url_length.
 */
export function applyLimits(app: FastifyInstance, limits: Limits, log: Logger): void {
  app.server.maxHeadersCount = MAX_HEADERS_COUNT;
  const fdLimit = openFileLimit();
  const max = maxConnections(limits, fdLimit);
  if (max + SHED_ALLOWANCE + FD_RESERVE > fdLimit) {
    log.warn(
      { max_connections: max, open_file_limit: fdLimit },
      `limits.max_connections (${max}) leaves fewer than ${FD_RESERVE + SHED_ALLOWANCE} of the ${fdLimit} open files (ulimit -n) for the rest of autopull; raise the limit or lower max_connections`,
    );
  }
  guardConnections(app.server, { perAddress: limits.connections_per_address, max, log });
  app.decorateRequest('clientAddress', '');
  // A callback hook, not an async one: it runs on every request, and a promise per request costs.
  app.addHook('onRequest', (req, _reply, done) => {
    req.clientAddress = plainAddress(req.ip) ?? connectionAddress(req.raw.socket) ?? UNKNOWN;
    if (req.url.length > limits.max_url_length) return done(new AppError('uri_too_long', `the URL is longer than ${limits.max_url_length} bytes (limits.max_url_length)`));
    done();
  });
}
