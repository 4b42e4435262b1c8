import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookApp } from '../../test/helpers/hook-app.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { parseConfigText } from '../config/load.js';
import { ConfigError } from '../lib/errors.js';

// allow_ips behind a proxy: the address checked is the right-most X-Forwarded-For entry
// that is not a trusted proxy. Entries left of it were written by the client.
const S = 'trust-proxy-secret-1';
const repos = `repos:
  walled: { url: 'https://github.com/acme/blog.git', secret: ${S}, allow_ips: [10.1.2.0/24], deploy: { path: ./srv } }
`;

function delivery(xff?: string) {
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), S);
  if (xff !== undefined) d.headers['x-forwarded-for'] = xff;
  return d;
}

test('trust_proxy: true believes the nearest hop only: a spoofed left-most X-Forwarded-For is refused, the proxy-added one passes', async (t) => {
  const f = await hookApp(t, `trust_proxy: true\n${repos}`);
  const spoofed = await f.send('/hooks/walled', delivery('10.1.2.3, 203.0.113.7'), '127.0.0.1');
  assert.equal(spoofed.status, 403, JSON.stringify(spoofed.body));
  assert.equal(spoofed.body.error, 'ip_not_allowed');
  assert.match(String(spoofed.body.message), /address 203\.0\.113\.7 is not in allow_ips of repo walled/);
  assert.equal((await f.send('/hooks/walled', delivery('203.0.113.7, 10.1.2.3'), '127.0.0.1')).status, 202);
  assert.equal((await f.send('/hooks/walled', delivery('::ffff:10.1.2.9'), '127.0.0.1')).status, 202, 'IPv4-mapped IPv6');
  assert.equal((await f.send('/hooks/walled', delivery(), '::ffff:10.1.2.4')).status, 202, 'no proxy header: the peer itself');
  assert.equal((await f.send('/hooks/walled', delivery('10.1.2.3, junk'), '127.0.0.1')).status, 403, 'an entry that is no address fails closed');
});

test('trust_proxy: false ignores X-Forwarded-For', async (t) => {
  const f = await hookApp(t, repos);
  assert.equal((await f.send('/hooks/walled', delivery('10.1.2.3'), '127.0.0.1')).status, 403);
  assert.equal((await f.send('/hooks/walled', delivery('203.0.113.7'), '10.1.2.3')).status, 202);
  assert.equal((await f.send('/hooks/walled', delivery(), '::ffff:10.1.2.3')).status, 202);
});

test('trust_proxy as a CIDR list: the right-most address that is not a listed proxy is the client', async (t) => {
  const f = await hookApp(t, `trust_proxy: [127.0.0.1/32, 192.0.2.0/24]\n${repos}`);
  const spoofed = await f.send('/hooks/walled', delivery('10.1.2.3, 203.0.113.7, 192.0.2.10'), '127.0.0.1');
  assert.equal(spoofed.status, 403);
  assert.match(String(spoofed.body.message), /203\.0\.113\.7/);
  assert.equal((await f.send('/hooks/walled', delivery('203.0.113.7, 10.1.2.3, 192.0.2.10'), '127.0.0.1')).status, 202);
  assert.equal((await f.send('/hooks/walled', delivery('10.1.2.3'), '::ffff:127.0.0.1')).status, 202, 'a listed proxy seen as IPv4-mapped IPv6 (dual-stack listen)');
  const untrustedPeer = await f.send('/hooks/walled', delivery('10.1.2.3'), '198.51.100.1');
  assert.equal(untrustedPeer.status, 403, 'a peer that is not a listed proxy is the client itself');
  assert.match(String(untrustedPeer.body.message), /198\.51\.100\.1/);
});

test('autopull check refuses a trust_proxy entry that is no address or CIDR block', () => {
  assert.throws(
    () => parseConfigText(`trust_proxy: [127.0.0.1/32, proxy.local]\n${repos}`, '/x/autopull.yml', {}),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('trust_proxy[1]:')),
  );
});
