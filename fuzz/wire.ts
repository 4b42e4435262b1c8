import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import type { Built } from './senders.js';
import type { Plan, Wire } from './deliveries.js';

/**
 * Sending a planned delivery: through Node's HTTP client (keep-alive), or over a raw socket
 * for what a client library will not send (chunk sizes of our choosing, a wrong
 * Content-Length, pipelined requests, a close mid-request, bytes that are not HTTP).
 */

export interface Answer {
  /** HTTP status, or 'reset' (the connection closed without an answer), 'timeout', 'none' (no answer expected and none came). */
  status: number | 'reset' | 'timeout' | 'none';
  json: boolean;
  /** The answer's `status` or `error` field (queued, duplicate, signature_mismatch...). */
  outcome?: string;
  /** Sent again on a new connection after a kept-alive one was closed under it. */
  retried?: boolean;
}

export interface Sent {
  answers: Answer[];
  /** Whether an answer was owed: a complete request on an open connection. */
  owed: number;
}

const TIMEOUT_MS = 15_000;

export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets });
}

/**
 * A kept-alive connection the server closes (its keep_alive_timeout) just as the next request
 * goes out resets without an answer: like any HTTP client, send once more on a new connection.
 */
async function viaHttp(port: number, b: Built, agent: Agent): Promise<Answer> {
  const first = await httpOnce(port, b, agent);
  if (first.status !== 'reset') return first;
  return { ...(await httpOnce(port, b, false)), retried: true };
}

function httpOnce(port: number, b: Built, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of b.headers) {
      const prior = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
      if (prior === undefined) headers[name] = value;
      else headers[prior] = [...[headers[prior] as string | string[]].flat(), value];
    }
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      resolve(a);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: '127.0.0.1', port, method: 'POST', path: b.path, headers, agent, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, ...parsed(res.headers['content-type'], Buffer.concat(chunks)) }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, json: false }));
    });
    } catch {
      // Node's client refuses to send some header values at all (a control character): not sent, not counted.
      finish({ status: 'none', json: false });
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      finish({ status: 'timeout', json: false });
    });
    req.on('error', () => finish({ status: 'reset', json: false }));
    req.end(b.body);
  });
}

function parsed(type: string | undefined, body: Buffer): { json: boolean; outcome?: string } {
  if (!(type ?? '').includes('application/json')) return { json: false };
  try {
    const v = JSON.parse(body.toString('utf8')) as { status?: unknown; error?: unknown };
    const outcome = typeof v.status === 'string' ? v.status : typeof v.error === 'string' ? v.error : undefined;
    return { json: true, outcome };
  } catch {
    return { json: false };
  }
}

function head(b: Built, opts: { length?: number | null; chunked?: boolean; host?: boolean; version?: string; close?: boolean }): Buffer {
  const lines = [`POST ${b.path} HTTP/${opts.version ?? '1.1'}`];
  if (opts.host !== false) lines.push('Host: 127.0.0.1');
  for (const [n, v] of b.headers) lines.push(`${n}: ${v}`);
  if (opts.length !== null) lines.push(`Content-Length: ${opts.length ?? b.body.length}`);
  if (opts.chunked) lines.push('Transfer-Encoding: chunked');
  if (opts.close) lines.push('Connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function chunked(body: Buffer, sizes: () => number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = Math.min(body.length - at, Math.max(1, sizes()));
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The bytes to write for a raw-socket plan, how many answers are owed, and whether to close our side early. */
function rawBytes(p: Plan, rand: () => number): { bytes: Buffer; owed: number; cut: boolean } {
  const reqs = p.requests.map((r) => r.built);
  const b = reqs[0] as Built;
  const whole = (x: Built, close: boolean, extra: Parameters<typeof head>[1] = {}) => Buffer.concat([head(x, { close, ...extra }), x.body]);
  switch (p.wire as Exclude<Wire, 'http'>) {
    case 'chunked':
      return { bytes: Buffer.concat([head(b, { length: null, chunked: true, close: true }), chunked(b.body, () => 1 + Math.floor(rand() * 4096))]), owed: 1, cut: false };
    case 'pipeline':
      return { bytes: Buffer.concat(reqs.map((x, i) => whole(x, i === reqs.length - 1))), owed: 1, cut: false };
    case 'cl-short':
      return { bytes: Buffer.concat([head(b, { length: Math.floor(b.body.length / 2), close: true }), b.body]), owed: 1, cut: false };
    case 'cl-long-close':
      return { bytes: Buffer.concat([head(b, { length: b.body.length + 100, close: true }), b.body]), owed: 0, cut: true };
    case 'close-in-headers': {
      const h = head(b, { close: true });
      return { bytes: h.subarray(0, Math.floor(h.length / 2)), owed: 0, cut: true };
    }
    case 'close-in-body':
      return { bytes: Buffer.concat([head(b, { close: true }), b.body.subarray(0, Math.floor(b.body.length / 2))]), owed: 0, cut: true };
    case 'garbage':
      return { bytes: Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 2048) }, () => Math.floor(rand() * 256))), owed: 0, cut: true };
    case 'te-and-cl':
      return { bytes: Buffer.concat([head(b, { chunked: true, close: true }), chunked(b.body, () => 512)]), owed: 1, cut: false };
    case 'no-host':
      return { bytes: whole(b, true, { host: false }), owed: 1, cut: false };
    case 'http10':
      return { bytes: whole(b, false, { version: '1.0' }), owed: 1, cut: false };
  }
}

function viaSocket(port: number, p: Plan, rand: () => number): Promise<Sent> {
  const { bytes, owed, cut } = rawBytes(p, rand);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const answers: Answer[] = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => {
        const headEnd = text.indexOf('\r\n\r\n', m.index);
        return { status: Number(m[1]), json: /\r\ncontent-type: application\/json/i.test(text.slice(m.index, headEnd === -1 ? undefined : headEnd)) };
      });
      if (answers.length === 0) answers.push({ status: timedOut ? 'timeout' : owed > 0 ? 'reset' : 'none', json: false });
      resolve({ answers, owed });
    };
    const timer = setTimeout(() => finish(true), TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      socket.write(bytes);
      // A client that gives up: our side closes after what it sent (the server must not wait for the rest).
      if (cut) socket.end();
    });
  });
}

export async function send(port: number, p: Plan, agent: Agent, rand: () => number): Promise<Sent> {
  if (p.wire === 'http') return { answers: [await viaHttp(port, p.requests[0]?.built as Built, agent)], owed: 1 };
  return viaSocket(port, p, rand);
}
