import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenApp, rawExchange, requestText, type RawAnswer } from '../../test/helpers/raw-http.js';

// Requests that the HTTP layer itself rejects answer in the same JSON shape as every other
// error, with the right status (issue #8, fault 10d). Raw sockets: fetch cannot send these.

function assertError(a: RawAnswer, status: number, code: string, message: RegExp) {
  assert.equal(a.status, status, a.head);
  assert.match(a.head, /content-type: application\/json/i);
  assert.equal(a.json?.ok, false, JSON.stringify(a.json));
  assert.equal(a.json?.error, code);
  assert.match(String(a.json?.message), message);
}

test('a malformed request line is a 400 bad_request in JSON', async (t) => {
  const s = await listenApp(t);
  assertError(await rawExchange(s.port, 'HELLO THERE\r\n\r\n'), 400, 'bad_request', /malformed HTTP request/);
  assertError(await rawExchange(s.port, 'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n'), 400, 'bad_request', /malformed HTTP request/);
});

test('100 KB of headers is a 431 headers_too_large in JSON naming the limit', async (t) => {
  const s = await listenApp(t);
  const answer = await rawExchange(s.port, requestText('GET', '/healthz', { 'x-filler': 'a'.repeat(100 * 1024) }));
  assertError(answer, 431, 'headers_too_large', /16384 bytes \(limits\.max_header_size\)/);
});

test('a URL over limits.max_url_length is a 414 uri_too_long in JSON, below and above the header size limit', async (t) => {
  const s = await listenApp(t, 'limits: { max_url_length: 2048, max_header_size: 8KiB }\n');
  for (const length of [4000, 20_000]) {
    const answer = await rawExchange(s.port, requestText('GET', `/hooks/blog?x=${'a'.repeat(length)}`));
    assertError(answer, 414, 'uri_too_long', /2048 bytes \(limits\.max_url_length\)/);
  }
  // Just under the limit is an ordinary request.
  const ok = await rawExchange(s.port, requestText('GET', `/healthz?x=${'a'.repeat(2000)}`));
  assert.equal(ok.status, 200);
});

test('a request whose headers do not arrive in time is a 408 request_timeout in JSON', async (t) => {
  const s = await listenApp(t, 'limits: { header_timeout: 300ms, request_timeout: 1s }\n');
  const answer = await rawExchange(s.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n', '127.0.0.1', 3000);
  assertError(answer, 408, 'request_timeout', /limits\.header_timeout/);
});

test("paths fastify's router refuses (a malformed %-escape, a name past its length) answer in JSON too", async (t) => {
  const s = await listenApp(t);
  const post = (path: string) => rawExchange(s.port, requestText('POST', path, { 'content-type': 'application/json' }, '{}'));
  assertError(await post('/hooks/%'), 400, 'bad_request', /not valid URL text/);
  assertError(await post('/hooks/%E0%A4%A'), 400, 'bad_request', /not valid URL text/);
  assertError(await rawExchange(s.port, requestText('GET', '/api/jobs/%zz', {}, '')), 400, 'bad_request', /not valid URL text/);
  assertError(await post(`/hooks/${'a'.repeat(300)}`), 414, 'uri_too_long', /longer than a name can be/);
});
