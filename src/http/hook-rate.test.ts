import { test } from 'node:test';
import assert from 'node:assert/strict';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { waitUntil } from '../../test/helpers/app.js';
import { parseMetrics, sample } from '../../test/helpers/metrics.js';
import { HOOK_SECRET, listenApp, parseAnswer, rawConnect, rawExchange, requestText, type Listening, type RawAnswer } from '../../test/helpers/raw-http.js';

// limits.rate through the real server on 127.0.0.1: each 127.x.y.z is a client address of its own.

const CLONE = 'https://github.com/acme/blog.git';

function push(o: { secret?: string; ref?: string; xff?: string; repo?: string } = {}): string {
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: CLONE, ref: o.ref }), o.secret ?? HOOK_SECRET);
  if (o.xff !== undefined) d.headers['x-forwarded-for'] = o.xff;
  return requestText('POST', `/hooks/${o.repo ?? 'blog'}`, d.headers, d.body);
}

const forged = (o: { xff?: string; repo?: string } = {}) => push({ secret: 'not-the-secret', ...o });

function header(a: RawAnswer, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)$`, 'im').exec(a.head)?.[1]?.trim();
}

function deliveryRows(s: Listening, status: number): number {
  return (s.store.db.prepare('SELECT count(*) AS n FROM deliveries WHERE status_code = ?').get(status) as { n: number }).n;
}

/** Sends `n` requests from `from`, `concurrency` at a time; returns every answer. */
async function flood(port: number, from: string, n: number, concurrency: number, request: () => string): Promise<RawAnswer[]> {
  const out: RawAnswer[] = [];
  for (let sent = 0; sent < n; sent += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, n - sent) }, () => rawExchange(port, request(), from));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

test('a flood of bad signatures from one address: 10 are verified and refused (403), then 429 with Retry-After; another address deploys meanwhile', async (t) => {
  const s = await listenApp(t);
  const genuine = rawExchange(s.port, push(), '127.0.0.1');
  const answers = await flood(s.port, '127.0.0.2', 60, 12, () => forged());
  const during = await genuine;
  assert.equal(during.status, 202, JSON.stringify(during.json));
  const codes = answers.map((a) => a.status);
  assert.equal(codes.filter((c) => c === 403).length, 10, `the burst of failed_auth (10/1m) is verified: ${codes.join(',')}`);
  assert.equal(codes.filter((c) => c === 429).length, 50);
  const limited = answers.find((a) => a.status === 429) as RawAnswer;
  assert.equal(limited.json?.error, 'rate_limited');
  assert.match(String(limited.json?.message), /too many failed authentications from 127\.0\.0\.2 for repo blog \(limits\.rate\.failed_auth: 10\/1m\); try again in \d+ s/);
  const retryAfter = Number(header(limited, 'retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter}`);

  // After the flood, a genuine delivery from another address still deploys.
  assert.equal((await rawExchange(s.port, push({ ref: 'refs/heads/main' }), '127.0.0.3')).status, 202);
  // The ledger has the verified failures and one summary of the refusals, not 50 rows.
  assert.equal(deliveryRows(s, 403), 10);
  assert.equal(deliveryRows(s, 429), 1);
  const row = s.store.db.prepare("SELECT remote_addr, outcome, message FROM deliveries WHERE status_code = 429").get() as Record<string, string>;
  assert.equal(row.remote_addr, '127.0.0.2');
  assert.equal(row.outcome, 'rate_limited');
  const m = parseMetrics(await rawConnectText(s.port, requestText('GET', '/metrics')));
  assert.equal(sample(m, 'autopull_auth_failures_total', { reason: 'signature_mismatch' }), 10);
  assert.equal(sample(m, 'autopull_rate_limited_total', { limit: 'failed_auth' }), 50);
  assert.equal(sample(m, 'autopull_rate_limited_total', { limit: 'per_repo' }), 0);
  const warned = s.logs.filter((l) => l.limit === 'failed_auth');
  assert.equal(warned.length, 1, 'one log line per limit per 10 s');
});

/** The body of a GET answered with Connection: close. */
async function rawConnectText(port: number, request: string): Promise<string> {
  const conn = rawConnect(port, '127.0.0.1', request);
  const timer = setTimeout(() => conn.socket.destroy(), 5000);
  await conn.closed;
  clearTimeout(timer);
  const text = conn.received();
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

test('an address past per_address is answered 429 before its body is read: headers alone get the answer', async (t) => {
  const s = await listenApp(t, 'limits: { rate: { per_address: 2/1m } }');
  for (let i = 0; i < 2; i++) assert.equal((await rawExchange(s.port, forged(), '127.0.0.4')).status, 403);
  // Headers announcing a 5 MB body that never comes: a server that read the body first would wait.
  const conn = rawConnect(s.port, '127.0.0.4', 'POST /hooks/blog HTTP/1.1\r\nhost: autopull.test\r\ncontent-type: application/json\r\nx-github-event: push\r\ncontent-length: 5000000\r\n\r\n');
  t.after(() => conn.socket.destroy());
  const answer = await waitUntil('the 429 answer', () => (conn.received().includes('\r\n\r\n') ? parseAnswer(conn.received()) : null), 3000);
  assert.equal(answer.status, 429);
  assert.equal(answer.json?.error, 'rate_limited');
});

test('failed authentications count per address and repo: a limited address still reaches another repo, and /hooks counts apart', async (t) => {
  const s = await listenApp(t, `  site: { url: 'https://github.com/acme/site.git', secret: other-secret, deploy: { path: ./srv2 } }
limits: { rate: { failed_auth: 3/1m } }`);
  const from = '127.0.0.5';
  for (let i = 0; i < 3; i++) assert.equal((await rawExchange(s.port, forged(), from)).status, 403);
  assert.equal((await rawExchange(s.port, forged(), from)).status, 429);
  assert.equal((await rawExchange(s.port, push(), from)).status, 202, 'a good signature still passes: the address may be a host shared with whoever failed');
  assert.equal((await rawExchange(s.port, forged(), from)).status, 429, 'and the next failure is refused again');
  assert.equal((await rawExchange(s.port, forged({ repo: 'site' }), from)).status, 403, 'repo site has its own count');
  const d = githubDelivery('push', githubPush({ after: 'b'.repeat(40), cloneUrl: CLONE }), 'not-the-secret');
  assert.equal((await rawExchange(s.port, requestText('POST', '/hooks', d.headers, d.body), from)).status, 403, '/hooks has its own count');
  // Made-up repo names share the count of /hooks (404 unknown_repo), so inventing names gains nothing.
  for (let i = 0; i < 2; i++) assert.equal((await rawExchange(s.port, forged({ repo: `nope${i}` }), from)).status, 404);
  assert.equal((await rawExchange(s.port, forged({ repo: 'nope9' }), from)).status, 429);
});

test('per_address limits every delivery from one address, whatever its outcome; other addresses go on', async (t) => {
  const s = await listenApp(t, 'limits: { rate: { per_address: 4/1m } }');
  const untracked = () => push({ ref: 'refs/heads/feature' });
  for (let i = 0; i < 4; i++) assert.equal((await rawExchange(s.port, untracked(), '127.0.0.6')).status, 200);
  const limited = await rawExchange(s.port, untracked(), '127.0.0.6');
  assert.equal(limited.status, 429);
  assert.match(String(limited.json?.message), /too many deliveries from 127\.0\.0\.6 \(limits\.rate\.per_address: 4\/1m\); try again in (1[0-5]|[1-9]) s/);
  assert.equal((await rawExchange(s.port, push(), '127.0.0.7')).status, 202);
});

test('per_repo limits the deliveries that queue jobs for one repo from all addresses; untracked refs and other repos are not counted', async (t) => {
  const s = await listenApp(t, `  site: { url: 'https://github.com/acme/site.git', secret: ${HOOK_SECRET}, deploy: { path: ./srv2 } }
limits: { rate: { per_repo: 3/1m } }`);
  for (let i = 0; i < 3; i++) assert.equal((await rawExchange(s.port, push(), `127.0.1.${i + 1}`)).status, 202);
  const limited = await rawExchange(s.port, push(), '127.0.1.9');
  assert.equal(limited.status, 429);
  assert.match(String(limited.json?.message), /too many deliveries that queue jobs for repo blog \(limits\.rate\.per_repo: 3\/1m\)/);
  assert.ok(Number(header(limited, 'retry-after')) >= 1);
  assert.equal((await rawExchange(s.port, push({ ref: 'refs/heads/feature' }), '127.0.1.9')).status, 200, 'an untracked ref queues nothing');
  assert.equal((await rawExchange(s.port, push({ repo: 'site' }), '127.0.1.9')).status, 202);
  assert.equal(s.kicked.filter((r) => r === 'blog').length, 3);
});

test('behind a proxy that is not trusted, the warning says every client counts as the proxy', async (t) => {
  const s = await listenApp(t, 'limits: { rate: { failed_auth: 1/1m } }');
  assert.equal((await rawExchange(s.port, forged({ xff: '203.0.113.9' }))).status, 403);
  assert.equal((await rawExchange(s.port, forged({ xff: '203.0.113.10' }))).status, 429, 'another client, the same proxy address');
  const line = s.logs.find((l) => l.limit === 'failed_auth');
  assert.match(String(line?.msg), /X-Forwarded-For, but trust_proxy is false: behind a proxy, every client counts as the proxy's address 127\.0\.0\.1; set trust_proxy/);
});

test('limits.rate off: a flood is verified one by one (the old behaviour)', async (t) => {
  const s = await listenApp(t, 'limits: { rate: off }');
  const answers = await flood(s.port, '127.0.0.8', 30, 10, () => forged());
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [403]);
});

test('behind a trusted proxy the client address from X-Forwarded-For is limited, not the proxy', async (t) => {
  const s = await listenApp(t, 'trust_proxy: [127.0.0.1/32]\nlimits: { rate: { failed_auth: 2/1m } }');
  for (let i = 0; i < 2; i++) assert.equal((await rawExchange(s.port, forged({ xff: '203.0.113.9' }))).status, 403);
  const limited = await rawExchange(s.port, forged({ xff: '203.0.113.9' }));
  assert.equal(limited.status, 429);
  assert.match(String(limited.json?.message), /from 203\.0\.113\.9 /);
  assert.equal((await rawExchange(s.port, push({ xff: '203.0.113.10' }))).status, 202, 'another client behind the same proxy');
  // A client that rotates the left-most X-Forwarded-For entries is still the right-most untrusted one.
  assert.equal((await rawExchange(s.port, forged({ xff: '10.9.9.9, 203.0.113.9' }))).status, 429);
});

test('IPv6 clients count by /64 and IPv4-mapped peers as IPv4 (dual-stack listener)', async (t) => {
  const s = await listenApp(t, 'trust_proxy: [127.0.0.1/32]\nlimits: { rate: { failed_auth: 2/1m } }', { host: '::ffff:127.0.0.1' });
  assert.equal((await rawExchange(s.port, forged({ xff: '2001:db8:1:2::a' }))).status, 403);
  assert.equal((await rawExchange(s.port, forged({ xff: '2001:db8:1:2:ffff::b' }))).status, 403, 'same /64');
  const limited = await rawExchange(s.port, forged({ xff: '2001:db8:1:2::c' }));
  assert.equal(limited.status, 429, 'the /64 used up its failed authentications');
  assert.equal((await rawExchange(s.port, forged({ xff: '2001:db8:1:3::a' }))).status, 403, 'another /64');
  // No X-Forwarded-For from an untrusted peer ::ffff:127.0.0.9: counted as 127.0.0.9.
  for (let i = 0; i < 2; i++) assert.equal((await rawExchange(s.port, forged(), '127.0.0.9')).status, 403);
  const mapped = await rawExchange(s.port, forged(), '127.0.0.9');
  assert.equal(mapped.status, 429);
  assert.match(String(mapped.json?.message), /from (::ffff:)?127\.0\.0\.9 /);
});

test('IPv6: rotating /64s within one /48 gets past no limit: the /48 counts too, at 4 times each rate; another /48 is not held back', async (t) => {
  const s = await listenApp(t, 'trust_proxy: true\nlimits: { rate: { failed_auth: 2/1m, per_address: 3/1m } }');
  const from = (net: string, n: number) => `2001:db8:${net}:${n.toString(16)}::1`;
  // failed_auth 2/1m per /64, so 8/1m for the /48: four /64s use it up between them.
  for (let n = 1; n <= 4; n++) {
    for (let i = 0; i < 2; i++) assert.equal((await rawExchange(s.port, forged({ xff: from('1', n) }))).status, 403, `/64 number ${n}`);
  }
  const fifth = await rawExchange(s.port, forged({ xff: from('1', 5) }));
  assert.equal(fifth.status, 429, 'a fresh /64 of the same /48');
  assert.match(String(fifth.json?.message), /too many failed authentications from 2001:db8:1:5::1 for repo blog \(limits\.rate\.failed_auth: 2\/1m; counted for its \/48 2001:db8:1::\/48, which may have 4 times the rate\)/);
  assert.equal((await rawExchange(s.port, forged({ xff: from('2', 1) }))).status, 403, 'another /48 has its own count');
  // per_address: 3/1m per /64, so 12/1m for the /48 (2001:db8:3::/48 has failed nothing).
  for (let n = 1; n <= 4; n++) {
    for (let i = 0; i < 3; i++) assert.equal((await rawExchange(s.port, push({ xff: from('3', n), ref: 'refs/heads/untracked' }))).status, 200);
  }
  const full = await rawExchange(s.port, push({ xff: from('3', 10), ref: 'refs/heads/untracked' }));
  assert.equal(full.status, 429);
  assert.match(String(full.json?.message), /too many deliveries from 2001:db8:3:a::1 \(limits\.rate\.per_address: 3\/1m; counted for its \/48 2001:db8:3::\/48/);
  assert.equal((await rawExchange(s.port, push({ xff: from('2', 2) }))).status, 202, 'a genuine push from another /48 deploys');
});
