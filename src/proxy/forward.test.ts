import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { get, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { rawExchange, send, testApp, testProxy } from '../../test/helpers/proxy.js';

test('hop-by-hop headers are removed both ways, those named in Connection too; Set-Cookie lines stay separate', async (t) => {
  const app = await testApp(t, 'a', (_req, res) => {
    res.writeHead(200, [
      ['Connection', 'X-Up-Hop'],
      ['X-Up-Hop', 'secret'],
      ['Keep-Alive', 'timeout=99'],
      ['Proxy-Authenticate', 'Basic'],
      ['Trailer', 'X-Checksum'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-End', 'kept'],
    ] as unknown as string[]);
    res.end('ok');
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const raw = await rawExchange(
    port,
    'GET /h HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Client-Hop\r\nX-Client-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
      'Trailer: X-Sum\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nX-End: kept\r\n\r\n',
  );
  const seen = app.seen[0]?.headers ?? {};
  for (const h of ['x-client-hop', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'upgrade']) assert.equal(seen[h], undefined, `${h} reached the app`);
  assert.equal(seen['x-end'], 'kept');
  assert.equal(seen['upgrade-insecure-requests'], '1', 'an end-to-end header that merely starts like a hop-by-hop one');
  assert.equal(seen.host, 'example.test', 'the app sees the Host the client used');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
  assert.match(head, /^http\/1\.1 200 /);
  for (const h of ['x-up-hop', 'keep-alive', 'proxy-authenticate', 'trailer']) assert.doesNotMatch(head, new RegExp(`^${h}:`, 'm'), `${h} reached the client`);
  assert.match(head, /^set-cookie: a=1\r\nset-cookie: b=2$/m);
  assert.match(head, /^x-end: kept$/m);
});

test('X-Forwarded-*: from an untrusted peer the client-sent ones are replaced, from a trusted proxy kept and appended to', async (t) => {
  const app = await testApp(t, 'a');
  const spoof = { 'x-forwarded-for': '10.9.9.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test', 'x-forwarded-port': '1', forwarded: 'for=10.9.9.9', host: 'shop.test' };
  const cases = [
    { trustProxy: false, xff: '127.0.0.1', proto: 'http', host: 'shop.test', others: undefined },
    { trustProxy: ['10.0.0.0/8'], xff: '127.0.0.1', proto: 'http', host: 'shop.test', others: undefined },
    { trustProxy: ['127.0.0.1/32'], xff: '10.9.9.9, 127.0.0.1', proto: 'https', host: 'evil.test', others: 'for=10.9.9.9' },
    { trustProxy: true, xff: '10.9.9.9, 127.0.0.1', proto: 'https', host: 'evil.test', others: 'for=10.9.9.9' },
  ] as const;
  for (const c of cases) {
    const { proxy, port } = await testProxy(t, { trustProxy: c.trustProxy });
    proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
    assert.equal((await send(port, '/', { headers: spoof })).status, 200);
    const h = app.seen.at(-1)?.headers ?? {};
    const label = JSON.stringify(c.trustProxy);
    assert.equal(h['x-forwarded-for'], c.xff, label);
    assert.equal(h['x-forwarded-proto'], c.proto, label);
    assert.equal(h['x-forwarded-host'], c.host, label);
    assert.equal(h.forwarded, c.others, label);
    await proxy.close();
  }
  const { proxy, port } = await testProxy(t, { trustProxy: true });
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  await send(port, '/', { headers: { host: 'shop.test' } });
  const h = app.seen.at(-1)?.headers ?? {};
  assert.deepEqual([h['x-forwarded-for'], h['x-forwarded-proto'], h['x-forwarded-host']], ['127.0.0.1', 'http', 'shop.test'], 'a trusted proxy that sent none');
});

// Were the proxy to buffer, the first event would never come: the timeout makes that a failure, not a hang.
test('an SSE stream is not buffered: an event reaches the client while the app still holds the stream open', { timeout: 10_000 }, async (t) => {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const app = await testApp(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('event: tick\ndata: 1\n\n');
    void released.then(() => res.end('event: tick\ndata: 2\n\n'));
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/events', agent: false }, resolve).on('error', reject));
  assert.equal(res.headers['content-type'], 'text/event-stream');
  const [first] = (await once(res, 'data')) as [Buffer];
  assert.equal(String(first), 'event: tick\ndata: 1\n\n');
  let rest = '';
  res.on('data', (c: Buffer) => (rest += String(c)));
  release();
  await once(res, 'end');
  assert.equal(rest, 'event: tick\ndata: 2\n\n');
});

/** `size` bytes of a fixed pseudo-random sequence, in 64 KiB chunks, generated as they are read; `produced()` counts them. */
function generated(size: number) {
  let made = 0;
  let state = 0x9e3779b9;
  const hash = createHash('sha256');
  const stream = new Readable({
    read() {
      if (made >= size) return void this.push(null);
      const chunk = Buffer.allocUnsafe(Math.min(65536, size - made));
      for (let i = 0; i < chunk.length; i += 4) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        chunk.writeUInt32LE(state, i);
      }
      made += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, produced: () => made, digest: () => hash.digest('hex') };
}

/** Resolves once `value()` has not changed for `quiet` consecutive checks 20 ms apart (at most 5 s): a flow has stalled. */
async function stalled(value: () => number, quiet = 10): Promise<void> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 250 && same < quiet; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
}

test('a 50 MiB upload streams through intact, and while the app does not read, the proxy holds only a bounded amount', async (t) => {
  const SIZE = 50 * 1024 * 1024;
  let received = 0;
  let upstreamReq: IncomingMessage | undefined;
  const hash = createHash('sha256');
  const app = await testApp(t, 'a', (req, res) => {
    upstreamReq = req;
    req.on('data', (c: Buffer) => {
      received += c.length;
      hash.update(c);
      if (received >= 1024 * 1024 && !paused) {
        paused = true;
        req.pause();
      }
    });
    req.on('end', () => res.end(JSON.stringify({ received, sha256: hash.digest('hex') })));
  });
  let paused = false;
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const body = generated(SIZE);
  const answer = new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/upload', agent: false, headers: { 'content-length': String(SIZE) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += String(c)));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    body.stream.pipe(req);
  });
  await stalled(() => body.produced());
  const inFlight = body.produced() - received;
  // Kernel socket buffers on two loopback hops plus a few stream buffers: far below what buffering the body would take.
  assert.ok(inFlight < 32 * 1024 * 1024, `${inFlight} bytes were taken from the client while the app read none`);
  assert.ok(body.produced() < SIZE, 'the client could not send everything while the app was not reading');
  upstreamReq?.resume();
  const result = JSON.parse(await answer) as { received: number; sha256: string };
  assert.equal(result.received, SIZE);
  assert.equal(result.sha256, body.digest());
});

test('a 20 MiB download streams through intact', async (t) => {
  const SIZE = 20 * 1024 * 1024;
  let sent = '';
  const app = await testApp(t, 'a', (_req, res) => {
    const body = generated(SIZE);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    body.stream.pipe(res).on('finish', () => (sent = body.digest()));
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/big', agent: false }, resolve).on('error', reject));
  const hash = createHash('sha256');
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    hash.update(c);
  }
  assert.equal(n, SIZE);
  assert.equal(hash.digest('hex'), sent);
});

test('a dead app gives 502 JSON at once: refused, reset before answering', async (t) => {
  const { proxy, port } = await testProxy(t);
  const gone = await testApp(t, 'gone');
  await new Promise((r) => gone.server.close(r));
  proxy.route({ id: 'gone', port: gone.port }, { drainMs: 0 });
  const refused = await send(port, '/');
  assert.equal(refused.status, 502);
  assert.deepEqual(refused.json(), { ok: false, error: 'bad_gateway', message: 'the app did not answer: connection refused (ECONNREFUSED)' });

  const resets = await testApp(t, 'resets', (req) => req.socket.destroy());
  proxy.route({ id: 'resets', port: resets.port }, { drainMs: 0 });
  const reset = await send(port, '/', { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(reset.status, 502);
  assert.equal(reset.json().error, 'bad_gateway');
  assert.match(String(reset.json().message), /^the app did not answer: /);
});

test('an app that dies halfway through its answer: the client sees the answer cut, not a hang', async (t) => {
  const app = await testApp(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setImmediate(() => res.socket?.destroy());
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const outcome = await new Promise<string>((resolve) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.on('error', (e) => resolve(`error ${e.message}`));
      res.on('aborted', () => resolve('aborted'));
      res.on('end', () => resolve('end'));
      res.resume();
    }).on('error', (e) => resolve(`request error ${e.message}`));
  });
  assert.notEqual(outcome, 'end');
});

test('an app slower than upstreamHeadersTimeoutMs gives 504 JSON', async (t) => {
  const app = await testApp(t, 'a', () => {});
  const { proxy, port } = await testProxy(t, { upstreamHeadersTimeoutMs: 50 });
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const r = await send(port, '/slow');
  assert.equal(r.status, 504);
  assert.equal(r.json().error, 'gateway_timeout');
});

test('a client that goes away aborts its upstream request', async (t) => {
  let arrived: (req: IncomingMessage) => void = () => {};
  const upstream = new Promise<IncomingMessage>((r) => (arrived = r));
  const app = await testApp(t, 'a', (req) => arrived(req));
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const client = connect(port, '127.0.0.1');
  client.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
  const req = await upstream;
  req.on('error', () => {});
  const closed = new Promise((r) => req.once('close', r));
  assert.deepEqual(proxy.open('a'), { requests: 1, sockets: 0 });
  client.destroy();
  await closed;
  assert.equal(req.complete, true, 'the request had arrived whole');
  assert.equal(req.socket.destroyed, true, 'the app saw its connection closed');
  assert.deepEqual(proxy.open('a'), { requests: 0, sockets: 0 });
});

test('the proxy answers in JSON what it cannot forward: an asterisk target, oversized headers, slow headers, CONNECT', async (t) => {
  const app = await testApp(t, 'a');
  const { proxy, port } = await testProxy(t, { maxHeaderSize: 2048, headerTimeoutMs: 100 });
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const star = await rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(star, /^HTTP\/1\.1 400 /);
  assert.match(star, /"error":"bad_request"/);
  const big = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  assert.match(big, /"error":"headers_too_large"/);
  const slow = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
  assert.match(slow, /^HTTP\/1\.1 408 /);
  assert.match(slow, /"error":"request_timeout"/);
  const tunnel = await rawExchange(port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
  assert.match(tunnel, /^HTTP\/1\.1 405 /);
  const absolute = await send(port, 'http://elsewhere.test/p?q=1');
  assert.equal(absolute.json().url, '/p?q=1', 'an absolute-form target is forwarded as its path');
  assert.equal(app.seen.length, 1);
});

test('Expect: 100-continue is answered by the proxy and the body still reaches the app; HEAD and 304 pass without a body', async (t) => {
  const app = await testApp(t, 'a', (req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '42' }).end();
    if (req.url === '/cached') return void res.writeHead(304, { etag: '"v1"' }).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => res.end(`got ${body}`));
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const answer = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers: { expect: '100-continue', 'content-length': '5' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += String(c)));
      res.on('end', () => resolve(text));
    });
    req.on('continue', () => req.end('hello'));
    req.on('error', reject);
  });
  assert.equal(answer, 'got hello');
  assert.equal(app.seen[0]?.headers.expect, undefined);
  const head = await send(port, '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '42');
  assert.equal(head.body, '');
  const cached = await send(port, '/cached');
  assert.equal(cached.status, 304);
  assert.equal(cached.headers.etag, '"v1"');
});

test('a GET that meets a connection reset before any answer is sent once more; a POST is not', async (t) => {
  let first = true;
  const app = await testApp(t, 'a', (req, res) => {
    if (first) {
      first = false;
      return void req.socket.destroy();
    }
    res.end(`second ${req.method ?? ''}`);
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const r = await send(port, '/page');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'second GET');
  assert.equal(app.seen.length, 2);
  first = true;
  assert.equal((await send(port, '/form', { method: 'POST', body: 'a=1' })).status, 502);
  assert.equal(app.seen.length, 3, 'a POST is never sent twice');
});
