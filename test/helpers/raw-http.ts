import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/store.js';
import { listenConfig } from './served-app.js';

export const HOOK_SECRET = 'raw-http-secret';

/** The app listening on 127.0.0.1 (real sockets), its store, the repos kicked and every log line. */
export interface Listening {
  app: FastifyInstance;
  port: number;
  store: Store;
  kicked: string[];
  /** Parsed pino lines, level >= 30 (info). */
  logs: Record<string, unknown>[];
}

/**
 * buildApp + listen on 127.0.0.1:0 with repo `blog` (GitHub secret HOOK_SECRET) and `extra` YAML appended.
 * `host` ::ffff:127.0.0.1 listens on loopback only, as a dual-stack listener sees IPv4 peers (::ffff:127.0.0.x).
 */
export async function listenApp(t: { after(fn: () => unknown): void }, extra = '', opts: { host?: '127.0.0.1' | '::ffff:127.0.0.1' } = {}): Promise<Listening> {
  const text = `data_dir: ./data
repos:
  blog: { url: 'https://github.com/acme/blog.git', secret: ${HOOK_SECRET}, deploy: { path: ./srv } }
${extra}`;
  const { app, port, store, kicked, logs } = await listenConfig(t, text, { host: opts.host });
  return { app, port, store, kicked, logs };
}

/** A raw connection to 127.0.0.1:port from `localAddress` (any 127.x.y.z is loopback on Linux). */
export interface RawConn {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the connection is closed (by either side, or reset). */
  closed: Promise<void>;
}

export function rawConnect(port: number, localAddress = '127.0.0.1', send: string | Buffer = ''): RawConn {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {}); // a reset is an outcome the tests look at, not a failure
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (send.length > 0) socket.write(send);
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed };
}

export interface RawAnswer {
  status: number;
  head: string;
  json: Record<string, unknown> | null;
}

/** Parses an HTTP/1.1 answer read off a raw socket (a JSON body with Content-Length). */
export function parseAnswer(text: string): RawAnswer {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text.slice(split + 4)) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status, head, json };
}

/** Sends `request` on a new connection and waits (at most timeoutMs) for the server to answer and close. */
export async function rawExchange(port: number, request: string | Buffer, localAddress = '127.0.0.1', timeoutMs = 5000): Promise<RawAnswer> {
  const conn = rawConnect(port, localAddress, request);
  const timer = setTimeout(() => conn.socket.destroy(), timeoutMs);
  await conn.closed;
  clearTimeout(timer);
  return parseAnswer(conn.received());
}

/** An HTTP/1.1 request as text, closing the connection after the answer. */
export function requestText(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const all: Record<string, string> = { host: 'autopull.test', connection: 'close', ...headers };
  if (body || method === 'POST') all['content-length'] = String(Buffer.byteLength(body));
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}
