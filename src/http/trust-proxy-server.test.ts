import { test } from 'node:test';
import assert from 'node:assert/strict';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { HOOK_SECRET, listenApp, rawExchange, requestText, type RawAnswer } from '../../test/helpers/raw-http.js';

// trust_proxy and allow_ips through the real server (real sockets, 127.x.y.z peers): the
// address allow_ips checks is the right-most X-Forwarded-For entry that is not a trusted proxy.

const WALLED = 'https://github.com/acme/walled.git';
const walled = (allow: string) => `  walled: { url: '${WALLED}', secret: ${HOOK_SECRET}, allow_ips: ${allow}, deploy: { path: ./srv-walled } }\n`;

function send(port: number, o: { xff?: string; from?: string; url?: string } = {}): Promise<RawAnswer> {
  const d = githubDelivery('push', githubPush({ after: 'c'.repeat(40), cloneUrl: WALLED }), HOOK_SECRET);
  if (o.xff !== undefined) d.headers['x-forwarded-for'] = o.xff;
  return rawExchange(port, requestText('POST', o.url ?? '/hooks/walled', d.headers, d.body), o.from ?? '127.0.0.1');
}

function refused(a: RawAnswer, address: string): void {
  assert.equal(a.status, 403, JSON.stringify(a.json));
  assert.equal(a.json?.error, 'ip_not_allowed');
  assert.ok(String(a.json?.message).includes(`address ${address} is not in allow_ips`), String(a.json?.message));
}

test('trust_proxy as CIDR blocks: the right-most address that is not a listed proxy is the client; an unlisted peer is the client itself', async (t) => {
  const s = await listenApp(t, `${walled('[10.1.2.0/24]')}trust_proxy: [127.0.0.1/32, 192.0.2.0/24]\n`);
  refused(await send(s.port, { xff: '10.1.2.3, 203.0.113.7, 192.0.2.10' }), '203.0.113.7');
  assert.equal((await send(s.port, { xff: '203.0.113.7, 10.1.2.3, 192.0.2.10' })).status, 202);
  refused(await send(s.port, { xff: '10.1.2.3', from: '127.0.0.2' }), '127.0.0.2');
  // Text that is no address is not a client of its own: the request counts as the proxy's.
  refused(await send(s.port, { xff: '10.1.2.3, not-an-address' }), '127.0.0.1');
});

test('trust_proxy: a client address with a port, as some proxies write it, is the address alone', async (t) => {
  const s = await listenApp(t, `${walled('[10.1.2.0/24, "2001:db8::/32"]')}trust_proxy: true\n`);
  assert.equal((await send(s.port, { xff: '10.1.2.3:50123' })).status, 202);
  assert.equal((await send(s.port, { xff: '[2001:db8::7]:50123' })).status, 202);
  assert.equal((await send(s.port, { xff: '[2001:db8::8]' })).status, 202);
  refused(await send(s.port, { xff: '203.0.113.7:443' }), '203.0.113.7');
  refused(await send(s.port, { xff: '10.1.2.3:99999999' }), '127.0.0.1');
});

test('trust_proxy: true believes the nearest hop only; false believes no X-Forwarded-For', async (t) => {
  const yes = await listenApp(t, `${walled('[10.1.2.0/24]')}trust_proxy: true\n`);
  refused(await send(yes.port, { xff: '10.1.2.3, 203.0.113.7' }), '203.0.113.7');
  assert.equal((await send(yes.port, { xff: '203.0.113.7, 10.1.2.3', from: '127.0.0.3' })).status, 202);
  const no = await listenApp(t, `${walled('[10.1.2.0/24]')}trust_proxy: false\n`);
  refused(await send(no.port, { xff: '10.1.2.3' }), '127.0.0.1');
});

test('a dual-stack listener: an IPv4-mapped proxy (::ffff:127.0.0.1) matches an IPv4 trust_proxy block, and a mapped client an IPv4 allow_ips block', async (t) => {
  const s = await listenApp(t, `${walled('[10.1.2.0/24]')}trust_proxy: [127.0.0.1/32]\n`, { host: '::ffff:127.0.0.1' });
  assert.equal((await send(s.port, { xff: '10.1.2.3' })).status, 202);
  assert.equal((await send(s.port, { xff: '::ffff:10.1.2.4' })).status, 202);
  const untrusted = await send(s.port, { xff: '10.1.2.3', from: '127.0.0.2' });
  assert.equal(untrusted.status, 403);
  assert.match(String(untrusted.json?.message), /address (::ffff:)?127\.0\.0\.2 is not in allow_ips/);
});

test('allow_ips presets: a delivery from the GitHub hook range passes, on /hooks/REPO and /hooks; one from elsewhere is 403', async (t) => {
  const s = await listenApp(t, `${walled('[github, 10.1.2.0/24]')}trust_proxy: [127.0.0.1/32]\n`);
  assert.equal((await send(s.port, { xff: '140.82.115.251' })).status, 202, 'in 140.82.112.0/20');
  assert.equal((await send(s.port, { xff: '2606:50c0:8000::154' })).status, 202, 'in 2606:50c0::/32');
  assert.equal((await send(s.port, { xff: '10.1.2.9' })).status, 202, 'a CIDR block beside the preset');
  refused(await send(s.port, { xff: '203.0.113.1' }), '203.0.113.1');
  refused(await send(s.port, { xff: '34.74.226.5' }), '34.74.226.5');
  assert.equal((await send(s.port, { xff: '192.30.252.1', url: '/hooks' })).status, 202, '/hooks finds the repo and applies its allow_ips');
  const routed = await send(s.port, { xff: '203.0.113.1', url: '/hooks' });
  assert.equal(routed.status, 403);
  assert.equal(routed.json?.error, 'ip_not_allowed');
});

test('the gitlab and bitbucket presets hold their hosts\' ranges', async (t) => {
  const s = await listenApp(t, `${walled('[gitlab, bitbucket]')}trust_proxy: [127.0.0.1/32]\n`);
  assert.equal((await send(s.port, { xff: '34.74.226.5' })).status, 202, 'GitLab.com 34.74.226.0/24');
  assert.equal((await send(s.port, { xff: '104.192.137.1' })).status, 202, 'Bitbucket Cloud 104.192.136.0/21');
  refused(await send(s.port, { xff: '140.82.115.251' }), '140.82.115.251');
});
