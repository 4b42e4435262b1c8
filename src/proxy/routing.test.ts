import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { openWs, rawExchange, send, testApp, testProxy } from '../../test/helpers/proxy.js';

/** An app whose answers wait until the test releases them; `arrived` resolves as each request comes in. */
async function heldApp(t: Parameters<typeof testApp>[0], id: string) {
  const held: ServerResponse[] = [];
  const waiters: ((r: { req: IncomingMessage; res: ServerResponse }) => void)[] = [];
  const app = await testApp(t, id, (req, res) => {
    held.push(res);
    waiters.shift()?.({ req, res });
  });
  return { ...app, held, arrived: () => new Promise<{ req: IncomingMessage; res: ServerResponse }>((r) => waiters.push(r)) };
}

/** Target `a` (held answers) routed, a request `/slow` in flight on it, and `b` ready beside it. */
async function slowOnA(t: Parameters<typeof testApp>[0]) {
  const a = await heldApp(t, 'a');
  const b = await testApp(t, 'b');
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const arrived = a.arrived();
  const slow = send(port, '/slow');
  await arrived;
  return { a, b, proxy, port, slow };
}

test('no target: HTTP requests and upgrades get 503 JSON with Retry-After', async (t) => {
  const { proxy, port } = await testProxy(t);
  assert.equal(proxy.target(), null);
  const r = await send(port, '/');
  assert.equal(r.status, 503);
  assert.equal(r.headers['retry-after'], '5');
  assert.deepEqual(Object.keys(r.json()), ['ok', 'error', 'message']);
  assert.equal(r.json().error, 'unavailable');
  const raw = await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 503 /);
  assert.match(raw, /retry-after: 5/);
  assert.match(raw, /"error":"unavailable"/);
});

test('route switches atomically: each request after route() returns reaches the new target, a kept-alive client connection included', async (t) => {
  const a = await testApp(t, 'a');
  const b = await testApp(t, 'b');
  const { proxy, port } = await testProxy(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const order = ['a', 'b', 'a', 'b', 'b', 'a'];
  let kept = 0;
  for (const id of order) {
    const app = id === 'a' ? a : b;
    proxy.route({ id, port: app.port }, { drainMs: 60_000 });
    assert.deepEqual(proxy.target(), { id, port: app.port });
    const answers = await Promise.all([send(port, `/k-${id}`, { agent }), send(port, `/f-${id}`)]);
    for (const r of answers) assert.equal(r.json().id, id, `a request after route(${id}) went to ${String(r.json().id)}`);
    kept += answers[0].reused ? 1 : 0;
  }
  assert.equal(kept, order.length - 1, 'the kept-alive client connection carried every request after the first');
  assert.equal(a.seen.length + b.seen.length, order.length * 2);
});

test('a slow request in flight across a switch completes on the old target; drained resolves once it is done', async (t) => {
  const { a, b, proxy, port, slow } = await slowOnA(t);
  assert.deepEqual(proxy.open('a'), { requests: 1, sockets: 0 });

  const { drained } = proxy.route({ id: 'b', port: b.port }, { drainMs: 60_000 });
  assert.equal((await send(port, '/fast')).json().id, 'b', 'new traffic goes to b while a drains');
  let settled = false;
  void drained.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'a still has a request in flight');

  (a.held[0] as ServerResponse).end('done by a');
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'done by a');
  assert.deepEqual(await drained, { id: 'a', outcome: 'idle', closed: { requests: 0, sockets: 0 } });
  assert.deepEqual(proxy.open('a'), { requests: 0, sockets: 0 });
});

test('at drainMs a request not yet answered gets a 503 and its upstream request is aborted', async (t) => {
  const a = await heldApp(t, 'a');
  const b = await testApp(t, 'b');
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const arrived = a.arrived();
  const stuck = send(port, '/never');
  const { req } = await arrived;
  req.on('error', () => {}); // the abort reaches the app as an 'aborted' error
  const upstreamClosed = new Promise((r) => req.once('close', r));
  const { drained } = proxy.route({ id: 'b', port: b.port }, { drainMs: 20 });
  const result = await drained;
  assert.equal(result.outcome, 'timeout');
  assert.deepEqual(result.closed, { requests: 1, sockets: 0 });
  const r = await stuck;
  assert.equal(r.status, 503);
  assert.equal(r.json().error, 'unavailable');
  assert.match(String(r.json().message), /drain timeout \(20 ms\)/);
  await upstreamClosed;
});

test('at drainMs a stream of unknown length (SSE) ends cleanly: the client sees a complete response', async (t) => {
  let upstreamRes: ServerResponse | undefined;
  const a = await testApp(t, 'a', (_req, res) => {
    upstreamRes = res;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/events', agent: false }, resolve).on('error', reject));
  let body = '';
  res.on('data', (c: Buffer) => (body += String(c)));
  await new Promise<void>((r) => res.once('data', () => r()));
  let aborted = false;
  res.on('aborted', () => (aborted = true));
  const ended = once(res, 'end');
  assert.ok(upstreamRes);
  const upstreamClosed = once(upstreamRes, 'close');
  const { drained } = proxy.route(null, { drainMs: 10 });
  assert.equal((await drained).outcome, 'timeout');
  await ended;
  assert.equal(aborted, false);
  assert.equal(res.complete, true);
  assert.equal(body, 'data: one\n\n');
  await upstreamClosed;
});

test('routing back to a target still draining (a revert) keeps it, its requests in flight and its pool', async (t) => {
  const { a, b, proxy, port, slow } = await slowOnA(t);
  const first = proxy.route({ id: 'b', port: b.port }, { drainMs: 60_000 });
  const back = proxy.route({ id: 'a', port: a.port }, { drainMs: 60_000 });
  assert.deepEqual(await first.drained, { id: 'a', outcome: 'rerouted', closed: { requests: 0, sockets: 0 } });
  assert.deepEqual(proxy.open('a'), { requests: 1, sockets: 0 });
  const fast = send(port, '/again');
  await a.arrived();
  (a.held[0] as ServerResponse).end('slow');
  (a.held[1] as ServerResponse).end('again');
  assert.equal((await slow).body, 'slow');
  assert.equal((await fast).body, 'again');
  assert.deepEqual(await back.drained, { id: 'b', outcome: 'idle', closed: { requests: 0, sockets: 0 } });
});

test('route() refuses a bad target or drainMs, and the same id on another port; the same target again is a no-op', async (t) => {
  const a = await testApp(t, 'a');
  const { proxy } = await testProxy(t);
  assert.throws(() => proxy.route({ id: '', port: a.port }, { drainMs: 0 }), /target\.id/);
  assert.throws(() => proxy.route({ id: 'a', port: 70000 }, { drainMs: 0 }), /target\.port must be a port number, not 70000/);
  assert.throws(() => proxy.route({ id: 'a', port: a.port }, { drainMs: -1 }), /drainMs/);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  assert.throws(() => proxy.route({ id: 'a', port: a.port + 1 }, { drainMs: 0 }), /routed on port/);
  assert.deepEqual(await proxy.route({ id: 'a', port: a.port }, { drainMs: 0 }).drained, { id: null, outcome: 'none', closed: { requests: 0, sockets: 0 } });
  assert.deepEqual(proxy.target(), { id: 'a', port: a.port });
});

test('close() answers what is in flight, closes WebSockets with 1001 and stops listening', async (t) => {
  const a = await heldApp(t, 'a');
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const ws = await openWs(t, port);
  const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const arrived = a.arrived();
  const pending = send(port, '/pending');
  await arrived;
  await proxy.close();
  assert.equal((await pending).status, 503);
  assert.equal(await wsClosed, 1001);
  await assert.rejects(send(port, '/'), /ECONNREFUSED/);
});

test('switching back and forth under load fails no request, and every drain ends idle or rerouted', async (t) => {
  const a = await testApp(t, 'a');
  const b = await testApp(t, 'b');
  const { proxy, port } = await testProxy(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  proxy.route({ id: 'a', port: a.port }, { drainMs: 60_000 });
  const drains: Promise<{ outcome: string }>[] = [];
  let sent = 0;
  const worker = async () => {
    const statuses: number[] = [];
    while (sent < 400) {
      sent++;
      if (sent % 25 === 0) {
        const next = proxy.target()?.id === 'a' ? b : a;
        drains.push(proxy.route({ id: next.id, port: next.port }, { drainMs: 60_000 }).drained);
      }
      statuses.push((await send(port, `/n${sent}`, { agent, method: sent % 2 ? 'GET' : 'POST', body: sent % 2 ? undefined : 'payload' })).status);
    }
    return statuses;
  };
  const statuses = (await Promise.all(Array.from({ length: 8 }, worker))).flat();
  assert.equal(statuses.length, 400);
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.ok(a.seen.length > 0 && b.seen.length > 0);
  for (const r of await Promise.all(drains)) assert.ok(r.outcome === 'idle' || r.outcome === 'rerouted', r.outcome);
});
