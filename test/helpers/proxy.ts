import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.js';

type T = { after(fn: () => unknown): void };

export interface TestApp {
  id: string;
  port: number;
  server: Server;
  /** The requests this app has received (method, url, headers), in order. */
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  /** WebSocket server on the same port: by default each message is echoed as `<id>:<message>`. */
  wss: WebSocketServer;
}

/**
 * A real app instance on 127.0.0.1 (OS-chosen port): `handler` answers, by default with
 * `{"id": ID, "url": ...}`; WebSockets echo with the id in front. Closed when the test ends.
 */
export async function testApp(t: T, id: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestApp> {
  const seen: TestApp['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (handler) return handler(req, res);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id, url: req.url }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${id}:${String(m)}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { id, port: (server.address() as AddressInfo).port, server, seen, wss };
}

/** A proxy listening on 127.0.0.1, closed when the test ends. */
export async function testProxy(t: T, options: ProxyOptions = {}): Promise<{ proxy: Proxy; port: number; base: string }> {
  const proxy = createProxy(options);
  const { port } = await proxy.listen('127.0.0.1', 0);
  t.after(() => proxy.close());
  return { proxy, port, base: `http://127.0.0.1:${port}` };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: () => Record<string, unknown>;
  /** The request went on a kept-alive connection that had carried an earlier one. */
  reused: boolean;
}

/** One request on a fresh connection (or `agent`'s), the whole answer read. */
export function send(port: number, path: string, o: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; agent?: import('node:http').Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown>, reused: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Writes `text` on a new raw connection and returns everything read until the server closes it. */
export async function rawExchange(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(text);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** Resolves with the next message of `ws` as a string. */
export function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (m) => resolve(String(m)));
    ws.once('error', reject);
  });
}

/** A WebSocket client through `port`, open (or rejected with its error), terminated when the test ends. */
export async function openWs(t: T, port: number, path = '/ws'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** The code and reason `ws` closes with. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

/** Resolves when `cond()` holds, checked on each of `emitter`'s `event`s (no polling). */
export function whenSeen<E extends NodeJS.EventEmitter>(emitter: E, event: string, cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (cond()) return resolve();
    const check = () => {
      if (!cond()) return;
      emitter.off(event, check);
      resolve();
    };
    emitter.on(event, check);
  });
}

export type { Socket };
