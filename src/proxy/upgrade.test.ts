import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { closeOf, nextMessage, openWs, rawExchange, testApp, testProxy } from '../../test/helpers/proxy.js';

test('a WebSocket works through the proxy, with X-Forwarded-For on its upgrade request', async (t) => {
  const app = await testApp(t, 'a');
  let upgradeHeaders: Record<string, unknown> = {};
  app.wss.on('headers', (_h, req) => (upgradeHeaders = req.headers));
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const ws = await openWs(t, port, '/ws?room=1');
  ws.send('hello');
  assert.equal(await nextMessage(ws), 'a:hello');
  const big = 'x'.repeat(300_000);
  ws.send(big);
  assert.equal(await nextMessage(ws), `a:${big}`);
  assert.equal(upgradeHeaders['x-forwarded-for'], '127.0.0.1');
  assert.deepEqual(proxy.open('a'), { requests: 0, sockets: 1 });
  const closed = closeOf(ws);
  ws.close(1000, 'bye');
  assert.deepEqual(await closed, { code: 1000, reason: 'bye' });
});

test('a WebSocket opened before a switch stays on the old target and drained waits for it to close', async (t) => {
  const a = await testApp(t, 'a');
  const b = await testApp(t, 'b');
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const old = await openWs(t, port);
  const { drained } = proxy.route({ id: 'b', port: b.port }, { drainMs: 60_000 });
  const fresh = await openWs(t, port);
  fresh.send('new');
  assert.equal(await nextMessage(fresh), 'b:new');
  old.send('still here');
  assert.equal(await nextMessage(old), 'a:still here');
  assert.deepEqual(proxy.open('a'), { requests: 0, sockets: 1 });
  let settled = false;
  void drained.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  old.close(1000);
  assert.deepEqual(await drained, { id: 'a', outcome: 'idle', closed: { requests: 0, sockets: 0 } });
});

test('at drainMs an open WebSocket is closed cleanly: 1001 going away to the client and to the app', async (t) => {
  const a = await testApp(t, 'a');
  const appSide = new Promise<{ code: number; reason: string }>((resolve) =>
    a.wss.once('connection', (ws) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
  );
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: a.port }, { drainMs: 0 });
  const ws = await openWs(t, port);
  ws.send('ping');
  assert.equal(await nextMessage(ws), 'a:ping');
  const clientSide = closeOf(ws);
  const { drained } = proxy.route(null, { drainMs: 10 });
  assert.deepEqual(await drained, { id: 'a', outcome: 'timeout', closed: { requests: 0, sockets: 1 } });
  assert.deepEqual(await clientSide, { code: 1001, reason: 'going away' });
  assert.deepEqual(await appSide, { code: 1001, reason: 'going away' });
});

test("the app's answer to an upgrade that is not a 101 reaches the client as it is", async (t) => {
  const app = await testApp(t, 'a');
  app.server.removeAllListeners('upgrade');
  app.server.on('upgrade', (_req, socket: Socket) => {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 17\r\nX-Why: token\r\n\r\n{"error":"token"}');
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on('error', () => {}); // it never opens: the 401 is the point
  t.after(() => ws.terminate());
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['x-why'], 'token');
  let body = '';
  for await (const c of res) body += String(c);
  assert.equal(body, '{"error":"token"}');
});

test('an upgrade to a dead app gets 502 JSON', async (t) => {
  const gone = await testApp(t, 'gone');
  await new Promise((r) => gone.server.close(r));
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'gone', port: gone.port }, { drainMs: 0 });
  const raw = await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 502 /);
  assert.match(raw, /"error":"bad_gateway"/);
  assert.match(raw, /connection refused/);
});

test('another upgrade protocol is tunnelled byte for byte, and ended at drainMs', async (t) => {
  const app = await testApp(t, 'a');
  app.server.removeAllListeners('upgrade');
  app.server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket); // an echo
  });
  const { proxy, port } = await testProxy(t);
  proxy.route({ id: 'a', port: app.port }, { drainMs: 0 });
  const client = connect(port, '127.0.0.1');
  t.after(() => client.destroy());
  client.write('GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\nearly bytes|');
  let got = '';
  const waitFor = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => got.includes(text) && (client.off('data', onData), resolve());
      const onData = (c: Buffer) => ((got += c.toString('latin1')), check());
      client.on('data', onData);
      check();
    });
  await waitFor('early bytes|');
  assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(got, /\r\nupgrade: echo\/1\r\n/i);
  client.write('more');
  await waitFor('early bytes|more');
  const ended = once(client, 'end');
  client.resume();
  const { drained } = proxy.route(null, { drainMs: 5 });
  assert.deepEqual(await drained, { id: 'a', outcome: 'timeout', closed: { requests: 0, sockets: 1 } });
  await ended;
});
