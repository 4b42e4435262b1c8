import { test } from 'node:test';
import assert from 'node:assert/strict';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { HOOK_SECRET, listenApp, rawExchange, requestText } from '../../test/helpers/raw-http.js';

// A host sends every customer's deliveries from a few shared addresses (GitHub's hook
// ranges): anyone with an account there can point a hook of their own at your /hooks/REPO
// with a wrong secret, and their deliveries come from the very address yours come from.
// failed_auth must not turn that into refusing your genuine deliveries.

const CLONE = 'https://github.com/acme/blog.git';
const HOST = '127.0.0.20'; // the host's shared delivery address

function push(secret: string, after: string, path = '/hooks/blog'): string {
  const d = githubDelivery('push', githubPush({ after, cloneUrl: CLONE }), secret);
  return requestText('POST', path, d.headers, d.body);
}

test("another customer of a shared host flooding bad signatures to /hooks/REPO does not get the host's genuine delivery refused", async (t) => {
  const s = await listenApp(t, 'limits: { rate: { failed_auth: 3/1m } }');
  for (let i = 0; i < 3; i++) assert.equal((await rawExchange(s.port, push('their-own-secret', 'b'.repeat(40)), HOST)).status, 403);
  const locked = await rawExchange(s.port, push('their-own-secret', 'b'.repeat(40)), HOST);
  assert.equal(locked.status, 429, 'forged ones past the limit are refused');
  assert.equal(locked.json?.error, 'rate_limited');
  const genuine = await rawExchange(s.port, push(HOOK_SECRET, 'a'.repeat(40)), HOST);
  assert.equal(genuine.status, 202, `a genuine delivery from the same address deploys: ${JSON.stringify(genuine.json)}`);
  assert.deepEqual(s.kicked, ['blog']);
  // The refused forgeries were not written one by one: 3 verified failures and one 429 summary.
  const rows = s.store.db.prepare('SELECT status_code AS s, count(*) AS n FROM deliveries GROUP BY status_code ORDER BY s').all();
  assert.deepEqual(rows, [{ s: 202, n: 1 }, { s: 403, n: 3 }, { s: 429, n: 1 }]);
});

test('the same through /hooks (no repo in the URL): a flood of made-up repos from the shared address leaves the genuine delivery alone', async (t) => {
  const s = await listenApp(t, 'limits: { rate: { failed_auth: 2/1m } }');
  for (let i = 0; i < 4; i++) await rawExchange(s.port, push('their-own-secret', 'b'.repeat(40), `/hooks/nope${i}`), HOST);
  const genuine = await rawExchange(s.port, push(HOOK_SECRET, 'a'.repeat(40), '/hooks'), HOST);
  assert.equal(genuine.status, 202, JSON.stringify(genuine.json));
});
