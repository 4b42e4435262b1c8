import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp, TOKEN } from '../../../test/helpers/served-app.js';
import { cookieValue } from '../../../test/helpers/dashboard-http.js';
import { LoginLinks } from './login-links.js';

// One-time login links: the class, then through the real server (POST /api/login-link, GET /login?once=).
const YAML = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: link-secret-0123, deploy: { path: ./srv } }
`;

test('a login link is good once, within its time; a made-up code is nothing; the oldest goes past the cap', () => {
  let now = 1_000_000;
  const links = new LoginLinks({ ttlMs: 60_000, max: 2 }, () => now);
  const a = links.issue('hash-a');
  assert.equal(links.take(a.code), 'hash-a');
  assert.equal(links.take(a.code), null, 'used once already');
  const late = links.issue('hash-b');
  now += 60_001;
  assert.equal(links.take(late.code), null, 'expired');
  assert.equal(links.take('made-up'), null);
  const [x, y, z] = [links.issue('x'), links.issue('y'), links.issue('z')];
  assert.equal(links.size, 2);
  assert.equal(links.take(x.code), null);
  assert.equal(links.take(y.code), 'y');
  assert.equal(links.take(z.code), 'z');
});

test('POST /api/login-link makes a link that logs in once: the second use and an expired link are refused (401) and open nothing', async (t) => {
  let clock = new Date('2026-11-23T04:00:00Z');
  const s = await servedApp(t, YAML, { now: () => clock });
  assert.equal((await fetch(`${s.url}/api/login-link`, { method: 'POST' })).status, 401);
  const made = await s.api('/api/login-link', { method: 'POST' });
  assert.equal(made.status, 201);
  const link = (await made.json()) as { path: string; url: string; expires_at: string };
  assert.match(link.path, /^\/login\?once=[\w-]{43}$/);
  assert.equal(link.url, `${s.url}${link.path}`);
  assert.equal(link.expires_at, '2026-11-23T04:10:00.000Z');

  const first = await fetch(`${s.url}${link.path}&next=%2Frepos%2Fsite`, { redirect: 'manual' });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get('location'), '/repos/site');
  const session = cookieValue(first, 'autopull_session');
  assert.ok(session);
  assert.equal((await fetch(`${s.url}/repos/site`, { headers: { cookie: `autopull_session=${session}` } })).status, 200, 'the session opens pages');

  const again = await fetch(`${s.url}${link.path}`, { redirect: 'manual' });
  assert.equal(again.status, 401);
  assert.match(await again.text(), /That login link was used already or has expired/);
  assert.equal(cookieValue(again, 'autopull_session'), undefined);

  const late = (await (await s.api('/api/login-link', { method: 'POST' })).json()) as { path: string };
  clock = new Date(clock.getTime() + 10 * 60_000 + 1);
  const expired = await fetch(`${s.url}${late.path}`, { redirect: 'manual' });
  assert.equal(expired.status, 401);
  assert.equal(cookieValue(expired, 'autopull_session'), undefined);
  assert.ok(!TOKEN.includes(late.path.slice(12)), 'the link is not the token');
});
