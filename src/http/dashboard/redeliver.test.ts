import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp, type ServedApp } from '../../../test/helpers/served-app.js';
import { login, pageCsrf, postForm } from '../../../test/helpers/dashboard-http.js';
import { githubDelivery, githubPush } from '../../../test/helpers/github.js';

// Redeliver from the deliveries pages and through the API, on the real server (fetch).
const SECRET = 'redeliver-secret-0123';
const YAML = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: ${SECRET}, deploy: { path: ./srv } }
`;

/** A signed push of main as GitHub sends it; its job run to the end, so a redelivery queues a new one. */
async function delivered(s: ServedApp, secret = SECRET): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/main', after: 'f'.repeat(40), cloneUrl: 'https://github.com/acme/site.git' }), secret);
  const res = await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body });
  await res.arrayBuffer();
  const job = s.store.claim('site', process.pid);
  if (job) s.store.finishJob(job.id, 'succeeded', 'live');
  return { status: res.status, ...d };
}

test('redeliver from the deliveries page: a button per delivery, a confirmation, then the job of the new linked delivery with the same GitHub delivery id', async (t) => {
  const s = await servedApp(t, YAML);
  const d = await delivered(s);
  assert.equal(d.status, 202);
  const replay = await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body });
  assert.equal(((await replay.json()) as { status: string }).status, 'duplicate', 'a replay to /hooks is still refused');
  const [original] = s.store.listDeliveries().slice(-1);
  const { cookie } = await login(s);
  const list = await (await fetch(`${s.url}/deliveries`, { headers: { cookie } })).text();
  assert.match(list, new RegExp(`<form method="post" action="/deliveries/${original?.id}/redeliver"`));
  const csrf = await pageCsrf(s, cookie, '/deliveries');

  assert.equal((await postForm(s, cookie, `/deliveries/${original?.id}/redeliver`, { confirm: 'yes' })).status, 403, 'no CSRF token');
  const ask = await postForm(s, cookie, `/deliveries/${original?.id}/redeliver`, { _csrf: csrf });
  assert.equal(ask.status, 200);
  assert.match(await ask.text(), /<h1>Redeliver delivery #\d+\?<\/h1>[\s\S]*name="confirm" value="yes"/);
  const before = s.store.listDeliveries().length;
  assert.equal(before, 2, 'the confirmation sent nothing');

  const ok = await postForm(s, cookie, `/deliveries/${original?.id}/redeliver`, { _csrf: csrf, confirm: 'yes' });
  assert.equal(ok.status, 303);
  const job = s.store.getJob(Number(/^\/jobs\/(\d+)$/.exec(ok.headers.get('location') ?? '')?.[1]));
  assert.equal(job?.state, 'queued');
  const [row] = s.store.listDeliveries({ limit: 1 });
  assert.equal(row?.redelivery_of, original?.id);
  assert.equal(row?.headers['x-github-delivery'], d.headers['x-github-delivery'], 'the same GUID, as GitHub keeps it');
  assert.deepEqual(row?.jobs, [job?.id]);
  const page = await (await fetch(`${s.url}/deliveries/${row?.id}`, { headers: { cookie } })).text();
  assert.match(page, new RegExp(`Redelivery of</dt><dd><a href="/deliveries/${original?.id}">`));
});

test('a delivery that failed its signature check has no Redeliver button, and posting one anyway is a 409; unknown ids 404, malformed 400', async (t) => {
  const s = await servedApp(t, YAML);
  const d = await delivered(s, 'not-the-secret');
  assert.equal(d.status, 403);
  const [row] = s.store.listDeliveries();
  const { cookie } = await login(s);
  const page = await (await fetch(`${s.url}/deliveries/${row?.id}`, { headers: { cookie } })).text();
  assert.doesNotMatch(page, /action="\/deliveries\/\d+\/redeliver"/);
  assert.match(page, /Cannot be redelivered: delivery \d+ failed authentication/);
  const csrf = await pageCsrf(s, cookie, '/deliveries');
  const refused = await postForm(s, cookie, `/deliveries/${row?.id}/redeliver`, { _csrf: csrf, confirm: 'yes' });
  assert.equal(refused.status, 409);
  assert.match(await refused.text(), /only authenticated deliveries can be redelivered/);
  assert.equal((await postForm(s, cookie, '/deliveries/9999/redeliver', { _csrf: csrf, confirm: 'yes' })).status, 404);
  assert.equal((await postForm(s, cookie, '/deliveries/abc/redeliver', { _csrf: csrf, confirm: 'yes' })).status, 400);
  assert.equal(s.store.listDeliveries().length, 1);
});

test('POST /api/deliveries/:id/redeliver: a session needs X-CSRF-Token; the bearer token works; the answer is the hook\'s with ledger_id and redelivery_of', async (t) => {
  const s = await servedApp(t, YAML);
  await delivered(s);
  const [original] = s.store.listDeliveries();
  const { cookie } = await login(s);
  const url = `/api/deliveries/${original?.id}/redeliver`;
  const without = await fetch(`${s.url}${url}`, { method: 'POST', headers: { cookie } });
  assert.equal(without.status, 403);
  assert.match(((await without.json()) as { message: string }).message, /missing CSRF token/);
  assert.equal((await fetch(`${s.url}${url}`, { method: 'POST' })).status, 401);
  const res = await s.api(url, { method: 'POST' });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { status: string; jobs: number[]; ledger_id: number; redelivery_of: number };
  assert.equal(body.status, 'queued');
  assert.equal(body.redelivery_of, original?.id);
  assert.equal(s.store.getDelivery(body.ledger_id)?.redelivery_of, original?.id);
  assert.equal((await s.api('/api/deliveries/12x/redeliver', { method: 'POST' })).status, 400);
});
