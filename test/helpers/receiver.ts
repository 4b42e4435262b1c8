import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  requests: Received[];
  /** The status each next request gets, or 'hang' to hold it open until the receiver closes. */
  answer: number | 'hang';
  /** Resolves once `n` requests have arrived (bounded: rejects after `timeoutMs`). */
  received(n: number, timeoutMs?: number): Promise<void>;
  /** Closes the server and every connection: later attempts are refused. */
  close(): Promise<void>;
}

/** A notification receiver: a real HTTP server on 127.0.0.1 that records every request; closed when the test ends. */
export async function receiver(t: { after(fn: () => unknown): void }, answer: number | 'hang' = 200): Promise<Receiver> {
  const requests: Received[] = [];
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const waiting = new Set<() => void>();
  const r: Receiver = {
    url: '',
    requests,
    answer,
    close: async () => undefined,
    received: (n, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return;
          waiting.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`${requests.length} request(s) arrived, not ${n}, in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.add(check);
        check();
      }),
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      for (const w of [...waiting]) w();
      if (r.answer === 'hang') held.push(res);
      else res.writeHead(r.answer, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const addr = server.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook/secret-path`;
  let closed: Promise<void> | null = null;
  r.close = () => {
    closed ??= new Promise<void>((done) => {
      server.close(() => done());
      for (const s of sockets) s.destroy();
    });
    return closed;
  };
  t.after(() => r.close());
  return r;
}
