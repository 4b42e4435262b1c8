import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOOK_SECRET, listenApp, rawExchange } from '../../test/helpers/raw-http.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';

// Found by the fuzzer (npm run fuzz): Node answers a request without a Host header, or with
// its Host past the 256 headers it keeps, with a bare 400 of its own, no JSON, no ledger row.
// The app answers those requests itself, like any other.

test('a request without a Host header is answered by the app, in JSON', async (t) => {
  const { port } = await listenApp(t);
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), HOOK_SECRET);
  const head = Object.entries({ ...d.headers, 'content-length': String(Buffer.byteLength(d.body)), connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const res = await rawExchange(port, `POST /hooks/blog HTTP/1.1\r\n${head}\r\n${d.body}`);
  assert.equal(res.status, 202, res.head);
  assert.equal(res.json?.status, 'queued');
  const health = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n');
  assert.equal(health.status, 200);
});

test('a request with more headers than Node keeps (Host among the dropped) is answered in JSON', async (t) => {
  const { port } = await listenApp(t);
  const extra = Array.from({ length: 300 }, (_, i) => `x-h${i}: v\r\n`).join('');
  const body = '{}';
  const res = await rawExchange(port, `POST /hooks/blog HTTP/1.1\r\ncontent-type: application/json\r\nx-github-event: push\r\ncontent-length: 2\r\nconnection: close\r\n${extra}host: autopull.test\r\n\r\n${body}`);
  assert.equal(res.status, 401, res.head);
  assert.equal(res.json?.error, 'signature_missing');
});
