import { test } from 'node:test';
import assert from 'node:assert/strict';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { waitUntil } from '../../test/helpers/app.js';
import { HOOK_SECRET, listenApp, parseAnswer, rawConnect, rawExchange, requestText, type RawConn } from '../../test/helpers/raw-http.js';

// Slow and stalled clients against the real server on 127.0.0.1 (issue #8, fault 5).
const LIMITS = `limits:
  connections_per_address: 20
  header_timeout: 500ms
  request_timeout: 1500ms
  keep_alive_timeout: 1s
`;

/** Bounded wait for every connection to be closed; returns how long it took. */
async function allClosed(conns: RawConn[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${conns.length} stalled connections not all closed within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(conns.map((c) => c.closed)), timeout]);
  } finally {
    clearTimeout(timer);
    for (const c of conns) c.socket.destroy();
  }
  return Date.now() - started;
}

function signedPush(): string {
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), HOOK_SECRET);
  return requestText('POST', '/hooks/blog', d.headers, d.body);
}

test('300 stalled connections from one address: /healthz and a signed delivery from another still answer, the stalled ones are closed', async (t) => {
  const s = await listenApp(t, LIMITS);
  const stalled: RawConn[] = [];
  const partial = 'POST /hooks/blog HTTP/1.1\r\nhost: autopull.test\r\nx-github-event: push\r\n';
  const headersOnly = 'POST /hooks/blog HTTP/1.1\r\nhost: autopull.test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
  for (let i = 0; i < 300; i++) stalled.push(rawConnect(s.port, '127.0.0.1', ['', partial, headersOnly][i % 3]));
  // Past the per-address cap: closed at once, without an answer and before any parsing.
  await waitUntil('connections over the per-address cap to be closed', () => stalled.filter((c) => c.socket.destroyed).length >= 280, 3000);

  const health = await rawExchange(s.port, requestText('GET', '/healthz'), '127.0.0.2');
  assert.equal(health.status, 200);
  assert.equal(health.json?.ok, true);
  const hook = await rawExchange(s.port, signedPush(), '127.0.0.2');
  assert.equal(hook.status, 202, JSON.stringify(hook.json));
  assert.equal(s.store.listDeliveries().length, 1);

  // The admitted ones are closed by the header (500 ms) or request (1.5 s) timeout.
  const took = await allClosed(stalled, 4000);
  assert.ok(took < 4000, `took ${took} ms`);
  const timedOut = stalled.map((c) => parseAnswer(c.received())).filter((a) => a.status !== 0);
  assert.ok(timedOut.length >= 1 && timedOut.length <= 20, `${timedOut.length} answered`);
  for (const a of timedOut) {
    assert.equal(a.status, 408);
    assert.equal(a.json?.ok, false);
    assert.equal(a.json?.error, 'request_timeout');
    assert.match(String(a.json?.message), /limits\.header_timeout/);
  }
  // Once they are gone, the same address is served again; nothing of this is an internal error.
  assert.equal((await rawExchange(s.port, requestText('GET', '/healthz'))).status, 200);
  assert.deepEqual(s.logs.filter((l) => (l.level as number) >= 50), []);
});

test('over max_connections a new connection is refused with a 503 JSON answer, and served again once others close', async (t) => {
  const s = await listenApp(t, `${LIMITS}  max_connections: 30\n`);
  const held: RawConn[] = [];
  for (let i = 0; i < 15; i++) held.push(rawConnect(s.port, '127.0.0.3'), rawConnect(s.port, '127.0.0.4'));
  // Every one of the 30 is admitted: none is closed by the server yet.
  await waitUntil('30 connections to be accepted', async () => (await new Promise<number>((r) => s.app.server.getConnections((_e, n) => r(n)))) >= 30, 3000);
  const refused = await rawExchange(s.port, requestText('GET', '/healthz'), '127.0.0.5');
  assert.equal(refused.status, 503);
  assert.equal(refused.json?.ok, false);
  assert.equal(refused.json?.error, 'overloaded');
  assert.match(String(refused.json?.message), /limits\.max_connections/);
  for (const c of held) c.socket.destroy();
  await waitUntil('/healthz to answer again', async () => (await rawExchange(s.port, requestText('GET', '/healthz'), '127.0.0.5')).status === 200, 3000);
});

test('a kept-alive connection left idle is closed after limits.keep_alive_timeout', async (t) => {
  const s = await listenApp(t, LIMITS);
  const conn = rawConnect(s.port, '127.0.0.1', 'GET /healthz HTTP/1.1\r\nhost: autopull.test\r\n\r\n');
  await waitUntil('the answer', () => conn.received().includes('"ok":true'), 3000);
  assert.match(conn.received(), /keep-alive: timeout=1/i);
  const took = await allClosed([conn], 3000);
  assert.ok(took >= 500, `closed after ${took} ms`);
});
