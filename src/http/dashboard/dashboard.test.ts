import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp, TOKEN, type ServedApp } from '../../../test/helpers/served-app.js';
import { githubDelivery, githubPush } from '../../../test/helpers/github.js';
import { cookieValue, form, login, pageCsrf, setCookies } from '../../../test/helpers/dashboard-http.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { makeCertificate } from '../../../test/helpers/tls.js';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../../../test/helpers/tmp.js';
import { parseConfigText } from '../../config/load.js';
import { Store } from '../../store/store.js';
import { buildApp } from '../app.js';
import { silentLogger } from '../../lib/log.js';

// The dashboard's routes through the real server on 127.0.0.1 (fetch, no browser).
const SECRET = 'dash-secret-0123';
const YAML = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: ${SECRET}, deploy: { path: ./srv } }
`;

test('pages send a visitor without a session to the login form, which has a strict CSP and no inline script', async (t) => {
  const s = await servedApp(t, YAML);
  const res = await fetch(`${s.url}/jobs/1`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login?next=%2Fjobs%2F1');
  const page = await fetch(`${s.url}/login`);
  const html = await page.text();
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is a file');
  assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
  const js = /<script src="([^"]+)"/.exec(html)?.[1] as string;
  const asset = await fetch(`${s.url}${js}`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
});

test('login: a wrong token is refused (401, no session); the right one gets an HttpOnly SameSite=Strict session cookie', async (t) => {
  const s = await servedApp(t, YAML);
  const wrong = await login(s, 'not-the-token-at-all');
  assert.equal(wrong.res.status, 401);
  assert.equal(wrong.cookie, '');
  assert.match(await wrong.res.text(), /That token is not the one autopull has/);
  const ok = await login(s, TOKEN);
  assert.equal(ok.res.status, 303);
  assert.equal(ok.res.headers.get('location'), '/');
  const line = setCookies(ok.res).find((c) => c.startsWith('autopull_session=')) ?? '';
  assert.match(line, /HttpOnly/i);
  assert.match(line, /SameSite=Strict/i);
  assert.match(line, /Path=\//);
  assert.doesNotMatch(line, /Secure/i, 'plain http: not Secure');
  const overview = await fetch(`${s.url}/`, { headers: { cookie: ok.cookie } });
  assert.equal(overview.status, 200);
  assert.match(await overview.text(), /<h2><a href="\/repos\/site">site<\/a><\/h2>/);
});

test('the session cookie is Secure when the request came over https (through a trusted proxy)', async (t) => {
  const s = await servedApp(t, `trust_proxy: true\n${YAML}`);
  const { res } = await login(s, TOKEN, { 'x-forwarded-proto': 'https' });
  assert.match(setCookies(res).find((c) => c.startsWith('autopull_session=')) ?? '', /;\s*Secure/i);
});

test('a login post without the form CSRF token is refused', async (t) => {
  const s = await servedApp(t, YAML);
  const res = await fetch(`${s.url}/login`, form({ token: TOKEN }));
  assert.equal(res.status, 403);
  assert.match(await res.text(), /CSRF token/);
  assert.equal(cookieValue(res, 'autopull_session'), undefined);
});

test('failed logins are limited per address: the 6th try is 429 with Retry-After, even with the right token', async (t) => {
  const s = await servedApp(t, YAML);
  for (let i = 0; i < 5; i++) assert.equal((await login(s, `wrong-${i}`)).res.status, 401);
  const limited = await login(s, TOKEN);
  assert.equal(limited.res.status, 429);
  assert.ok(Number(limited.res.headers.get('retry-after')) > 0);
  assert.equal(limited.cookie, '');
});

test('the API takes the session: GETs with the cookie, changes only with X-CSRF-Token; the bearer token still works', async (t) => {
  const s = await servedApp(t, YAML);
  const { cookie } = await login(s, TOKEN);
  assert.equal((await fetch(`${s.url}/api/repos`, { headers: { cookie } })).status, 200);
  const body = JSON.stringify({ sender: 'github', ref: 'refs/heads/main' });
  const post = (headers: Record<string, string>) => fetch(`${s.url}/api/repos/site/simulate`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const without = await post({ cookie });
  assert.equal(without.status, 403);
  assert.match(((await without.json()) as { message: string }).message, /missing CSRF token/);
  assert.equal((await post({ cookie, 'x-csrf-token': 'guess' })).status, 403);
  const ok = await post({ cookie, 'x-csrf-token': await pageCsrf(s, cookie) });
  assert.equal(ok.status, 202);
  const d = s.store.getDelivery(((await ok.json()) as { ledger_id: number }).ledger_id);
  assert.match(d?.headers['x-autopull-simulated'] ?? '', /^dashboard from/);
  assert.equal((await s.api('/api/repos')).status, 200);
  assert.equal((await fetch(`${s.url}/api/repos`, { headers: { cookie: 'autopull_session=made-up' } })).status, 401);
});

test('the simulate form: without its CSRF token refused (403), with it the browser goes to the job; logout ends the session', async (t) => {
  const s = await servedApp(t, YAML);
  const { cookie } = await login(s, TOKEN);
  const send = (fields: Record<string, string>) => {
    const init = form(fields);
    return fetch(`${s.url}/repos/site/simulate`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
  };
  const refused = await send({ sender: 'github', ref: 'refs/heads/main' });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /missing CSRF token/);
  assert.equal(s.store.listDeliveries().length, 0);
  const csrf = await pageCsrf(s, cookie, '/repos/site/simulate');
  const ok = await send({ _csrf: csrf, sender: 'gitea', ref: 'refs/heads/main' });
  assert.equal(ok.status, 303);
  assert.match(ok.headers.get('location') ?? '', /^\/jobs\/\d+$/);
  const untracked = await send({ _csrf: csrf, sender: 'github', ref: 'refs/heads/other' });
  assert.match(untracked.headers.get('location') ?? '', /^\/deliveries\/\d+$/, 'nothing queued: the delivery says why');
  const unknown = await send({ _csrf: csrf, sender: 'svn', ref: 'refs/heads/main' });
  assert.equal(unknown.status, 400);
  assert.match(await unknown.text(), /known: github/);

  const out = await fetch(`${s.url}/logout`, { ...form({ _csrf: csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } });
  assert.equal(out.status, 303);
  assert.equal((await fetch(`${s.url}/`, { headers: { cookie }, redirect: 'manual' })).status, 303, 'the old cookie no longer opens pages');
});

test('text from a delivery is escaped on the pages', async (t) => {
  const s = await servedApp(t, YAML);
  const evil = '<script>alert(1)</script>';
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/main', after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/site.git' }), SECRET);
  d.headers['x-evil'] = `"><img src=x onerror=alert(1)>${evil}`;
  await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body.replace('"refs/heads/main"', `"refs/heads/main", "note": ${JSON.stringify(evil)}`) });
  const { cookie } = await login(s, TOKEN);
  const [row] = s.store.listDeliveries();
  const html = await (await fetch(`${s.url}/deliveries/${row?.id}`, { headers: { cookie } })).text();
  assert.ok(!html.includes(evil) && !html.includes('<img src=x'), 'nothing from the delivery is markup');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;/);
  const missing = await fetch(`${s.url}/deliveries/9999`, { headers: { cookie } });
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /text\/html/);
});

test('after a reload the pages and the login take the new config: a new repo, a new auth_token (sessions of the old one end)', async (t) => {
  const dir = tempDir(t);
  const configOf = (token: string, repos: string) => parseConfigText(`data_dir: ./data\nauth_token: ${token}\nrepos:\n${repos}`, join(dir, 'autopull.yml'), {});
  let current = configOf(TOKEN, `  site: { url: 'https://github.com/acme/site.git', secret: ${SECRET}, deploy: { path: ./srv } }\n`);
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ get config() { return current; }, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    app.server.closeAllConnections();
    await app.close();
    store.close();
  });
  const s = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` } as ServedApp;
  const { cookie } = await login(s, TOKEN);
  const newToken = 'a-new-token-after-the-reload';
  current = configOf(newToken, `  site: { url: 'https://github.com/acme/site.git', secret: ${SECRET}, deploy: { path: ./srv } }\n  blog: { url: 'https://github.com/acme/blog.git', secret: ${SECRET}, deploy: { path: ./srv2 } }\n`);
  const again = (await login(s, newToken)).cookie;
  assert.match(await (await fetch(`${s.url}/`, { headers: { cookie: again } })).text(), /<h2><a href="\/repos\/blog">blog<\/a><\/h2>/);
  assert.equal((await fetch(`${s.url}/repos/blog/simulate`, { headers: { cookie: again } })).status, 200);
  assert.equal((await login(s, TOKEN)).res.status, 401, 'the old token no longer logs in');
  assert.equal((await fetch(`${s.url}/`, { headers: { cookie }, redirect: 'manual' })).status, 303, 'and its sessions ended');
});

test('over TLS the dashboard cookies are Secure', async (t) => {
  const dir = tempDir(t);
  const pair = makeCertificate(dir, 'dash');
  const config = parseConfigText(`data_dir: ./data\nauth_token: ${TOKEN}\n${YAML}`, join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] }, { https: { cert: readFileSync(pair.cert), key: readFileSync(pair.key) } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    app.server.closeAllConnections();
    await app.close();
    store.close();
  });
  const cookies = await new Promise<string[]>((resolve, reject) => {
    const req = httpsRequest(`https://127.0.0.1:${(app.server.address() as AddressInfo).port}/login`, { ca: readFileSync(pair.cert), agent: false }, (res) => {
      res.resume();
      resolve(res.headers['set-cookie'] ?? []);
    });
    req.on('error', reject);
    req.end();
  });
  assert.match(cookies.find((c) => c.startsWith('autopull_login=')) ?? '', /;\s*Secure/i);
});
