import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionTokens, requestHeaders, responseHeaders } from './headers.js';

const untrusted = { peer: '203.0.113.7', trusted: false, proto: 'http' } as const;

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

test('Connection tokens are read from every Connection line, trimmed and lower-cased', () => {
  assert.deepEqual([...connectionTokens(['Connection', 'keep-alive, X-A', 'Host', 'h', 'connection', ' x-b ,,'])], ['keep-alive', 'x-a', 'x-b']);
});

test('request headers keep order, case and repeats of what is end-to-end', () => {
  const out = requestHeaders(['Host', 'shop.test', 'Cookie', 'a=1', 'X-Trace', '1', 'X-Trace', '2', 'Expect', '100-continue', 'Upgrade', 'websocket', 'Connection', 'Upgrade'], untrusted);
  assert.deepEqual(pairs(out), [
    ['Host', 'shop.test'],
    ['Cookie', 'a=1'],
    ['X-Trace', '1'],
    ['X-Trace', '2'],
    ['x-forwarded-for', '203.0.113.7'],
    ['x-forwarded-proto', 'http'],
    ['x-forwarded-host', 'shop.test'],
  ]);
});

test('a trusted proxy: X-Forwarded-For lines are joined and the peer appended; IPv4-mapped peers are written as IPv4', () => {
  const out = requestHeaders(['X-Forwarded-For', '198.51.100.1', 'x-forwarded-for', '10.0.0.2', 'X-Forwarded-Proto', 'https', 'Host', 'h'], { peer: '::ffff:10.0.0.3', trusted: true, proto: 'http' });
  assert.deepEqual(pairs(out).slice(-3), [
    ['x-forwarded-for', '198.51.100.1, 10.0.0.2, 10.0.0.3'],
    ['x-forwarded-proto', 'https'],
    ['x-forwarded-host', 'h'],
  ]);
});

test('an untrusted peer: every X-Forwarded-* and Forwarded it wrote is gone; no Host, no X-Forwarded-Host', () => {
  const out = requestHeaders(['X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Port', '1', 'X-Forwarded-Prefix', '/admin', 'Forwarded', 'for=1.2.3.4'], untrusted);
  assert.deepEqual(pairs(out), [
    ['x-forwarded-for', '203.0.113.7'],
    ['x-forwarded-proto', 'http'],
  ]);
});

test('response headers lose the hop-by-hop ones and those their Connection names, keep Set-Cookie lines apart', () => {
  const out = responseHeaders(['Connection', 'x-internal', 'X-Internal', 'v', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Type', 'text/plain']);
  assert.deepEqual(pairs(out), [
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
    ['Content-Type', 'text/plain'],
  ]);
});

test('an untrusted peer cannot name its own address in X-Real-IP; a trusted proxy can', () => {
  assert.deepEqual(pairs(requestHeaders(['Host', 'h', 'X-Real-IP', '1.2.3.4'], untrusted)).map(([n]) => n.toLowerCase()), ['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
  assert.deepEqual(pairs(requestHeaders(['Host', 'h', 'X-Real-IP', '198.51.100.1'], { peer: '10.0.0.3', trusted: true, proto: 'http' }))[1], ['X-Real-IP', '198.51.100.1']);
});

test('a Connection line cannot drop Host, Content-Length, Content-Type, Authorization or Cookie on the way to the app', () => {
  const out = requestHeaders(['Host', 'shop.test', 'Authorization', 'Bearer x', 'Cookie', 'a=1', 'Content-Type', 'text/plain', 'Content-Length', '3', 'X-A', '1', 'Connection', 'host, authorization, cookie, content-type, content-length, x-a'], untrusted);
  assert.deepEqual(pairs(out).slice(0, 5), [
    ['Host', 'shop.test'],
    ['Authorization', 'Bearer x'],
    ['Cookie', 'a=1'],
    ['Content-Type', 'text/plain'],
    ['Content-Length', '3'],
  ]);
  assert.equal(pairs(out).find(([n]) => n === 'X-A'), undefined);
});
