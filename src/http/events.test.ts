import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { servedApp, TOKEN } from '../../test/helpers/served-app.js';
import { SseClient } from '../../test/helpers/sse.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { setTimeout as delay } from 'node:timers/promises';
import { waitUntil } from '../../test/helpers/app.js';

// The event streams through the real server on 127.0.0.1 (SPEC section 3).
const REPO = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: s3cret-s3cret, deploy: { path: ./srv } }
`;
const auth = { authorization: `Bearer ${TOKEN}` };

function queuedJob(store: Store): number {
  return store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: null, trigger: 'manual' }).id;
}

test('a job stream replays the log, then follows live lines and state changes, and ends when the job is final', async (t) => {
  const s = await servedApp(t, REPO);
  const id = queuedJob(s.store);
  s.store.appendLog(id, 'step', 'fetch');
  s.store.appendLog(id, 'info', 'fetch: done in 5ms');
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, auth);
  t.after(() => c.close());
  assert.match(c.headers.get('content-type') ?? '', /^text\/event-stream/);
  const first = await c.waitFor('the state', (e) => e.event === 'state');
  assert.equal(first.data.state, 'queued');
  await c.waitFor('line 2', (e) => e.event === 'log' && e.id === '2');
  assert.deepEqual(c.events.filter((e) => e.event === 'log').map((e) => e.data.line), ['fetch', 'fetch: done in 5ms']);

  s.store.appendLog(id, 'out', 'building...');
  const live = await c.waitFor('the live line', (e) => e.event === 'log' && e.data.line === 'building...');
  assert.equal(live.id, '3');
  s.store.finishJob(id, 'succeeded', 'deployed');
  const end = await c.waitFor('end', (e) => e.event === 'end');
  assert.equal(end.data.state, 'succeeded');
  assert.equal(c.events.filter((e) => e.event === 'state').at(-1)?.data.state, 'succeeded');
  await c.ended;
  assert.equal(new Set(c.events.filter((e) => e.event === 'log').map((e) => e.id)).size, 3, 'no line sent twice');
});

test('a job stream resumes after Last-Event-ID (and ?after=): only the lines after it, then live', async (t) => {
  const s = await servedApp(t, REPO);
  const id = queuedJob(s.store);
  for (let i = 1; i <= 5; i++) s.store.appendLog(id, 'out', `line ${i}`);
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, { ...auth, 'last-event-id': '3' });
  t.after(() => c.close());
  await c.waitFor('line 5', (e) => e.id === '5');
  assert.deepEqual(c.events.filter((e) => e.event === 'log').map((e) => e.data.line), ['line 4', 'line 5']);
  const q = await SseClient.open(`${s.url}/api/jobs/${id}/events?after=4`, auth);
  t.after(() => q.close());
  await q.waitFor('line 5', (e) => e.id === '5');
  s.store.appendLog(id, 'out', 'line 6');
  await q.waitFor('line 6', (e) => e.id === '6');
  assert.deepEqual(q.events.filter((e) => e.event === 'log').map((e) => e.data.line), ['line 5', 'line 6']);

  const bad = await s.api(`/api/jobs/${id}/events`, { headers: { 'last-event-id': 'abc' } });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /Last-Event-ID must be a whole number/);
  const missing = await s.api('/api/jobs/999/events');
  assert.equal(missing.status, 404);
});

test('a finished job with a long log streams it whole in batches, then ends', async (t) => {
  const s = await servedApp(t, REPO);
  const id = queuedJob(s.store);
  s.store.transaction(() => {
    for (let i = 1; i <= 1200; i++) s.store.appendLog(id, 'out', `line ${i}`);
  });
  s.store.finishJob(id, 'failed', 'build failed');
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, auth);
  await c.ended;
  const seqs = c.events.filter((e) => e.event === 'log').map((e) => Number(e.id));
  assert.equal(seqs.length, 1200);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(c.events.at(-1)?.event, 'end');
});

test('a job run by another process (no events here) is followed on each heartbeat from the store', async (t) => {
  const s = await servedApp(t, REPO, { events: { heartbeatMs: 100 } });
  const other = new Store(join(s.dir, 'data', 'autopull.db'));
  t.after(() => other.close());
  const id = queuedJob(other);
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, auth);
  t.after(() => c.close());
  other.appendLog(id, 'out', 'from the CLI');
  await c.waitFor('the line', (e) => e.data.line === 'from the CLI');
  other.finishJob(id, 'succeeded', 'done');
  await c.waitFor('end', (e) => e.event === 'end');
  await c.ended;
});

test('GET /api/events: a delivery and its job, each readable from another connection when its event arrives', async (t) => {
  const s = await servedApp(t, REPO);
  const c = await SseClient.open(`${s.url}/api/events`, auth);
  t.after(() => c.close());
  const reader = new Store(join(s.dir, 'data', 'autopull.db'));
  t.after(() => reader.close());
  const seen: boolean[] = [];
  const check = (e: { event: string; data: Record<string, unknown> }) => {
    if (e.event === 'delivery') seen.push(reader.getDelivery(e.data.id as number) !== null);
    if (e.event === 'job') seen.push(reader.getJob(e.data.id as number) !== null);
  };
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/site.git' }), 's3cret-s3cret');
  const res = await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body });
  assert.equal(res.status, 202);
  const delivery = await c.waitFor('the delivery', (e) => e.event === 'delivery');
  const job = await c.waitFor('the job', (e) => e.event === 'job');
  check(delivery);
  check(job);
  assert.deepEqual(seen, [true, true]);
  assert.equal(delivery.data.status_code, 202);
  assert.equal(delivery.data.outcome, 'queued');
  assert.equal(delivery.data.body, undefined, 'no body in the event');
  assert.equal(job.data.state, 'queued');
  assert.equal(job.data.repo, 'site');
  assert.match(job.id ?? '', /^[0-9a-f]+-\d+$/);
});

test('GET /api/events resumes after Last-Event-ID with what was missed; an unknown id gets reset', async (t) => {
  const s = await servedApp(t, REPO);
  const c = await SseClient.open(`${s.url}/api/events`, auth);
  const id = queuedJob(s.store);
  const seen = await c.waitFor('the first job event', (e) => e.event === 'job');
  c.close();
  s.store.appendLog(id, 'out', 'not in the feed');
  s.store.finishJob(id, 'skipped', 'nothing to do');
  const again = await SseClient.open(`${s.url}/api/events`, { ...auth, 'last-event-id': seen.id as string });
  t.after(() => again.close());
  const missed = await again.waitFor('the missed change', (e) => e.event === 'job');
  assert.equal(missed.data.state, 'skipped');
  assert.ok(!again.events.some((e) => e.event === 'log'));

  const stale = await SseClient.open(`${s.url}/api/events`, { ...auth, 'last-event-id': '0123abcd-5' });
  t.after(() => stale.close());
  await stale.waitFor('reset', (e) => e.event === 'reset');
});

test('event streams need the token', async (t) => {
  const s = await servedApp(t, REPO);
  assert.equal((await fetch(`${s.url}/api/events`)).status, 401);
  assert.equal((await fetch(`${s.url}/api/events`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 403);
});

test('an open stream outlives request_timeout: heartbeats keep it, and a line after them still arrives', async (t) => {
  const s = await servedApp(t, `limits: { header_timeout: 100ms, request_timeout: 300ms, keep_alive_timeout: 100ms }\n${REPO}`);
  const id = queuedJob(s.store);
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, auth);
  t.after(() => c.close());
  // The heartbeat is a third of request_timeout: 10 of them span 1 s, over three timeouts.
  await c.heartbeats(10);
  assert.equal(c.isEnded, false);
  s.store.appendLog(id, 'out', 'still here');
  await c.waitFor('the line', (e) => e.data.line === 'still here');
});

test('the idle timeout (request_timeout) is off for a stream: one with no heartbeat in 1 s is still open', async (t) => {
  const s = await servedApp(t, `limits: { header_timeout: 100ms, request_timeout: 300ms, keep_alive_timeout: 100ms }\n${REPO}`, { events: { heartbeatMs: 60_000 } });
  const id = queuedJob(s.store);
  const c = await SseClient.open(`${s.url}/api/jobs/${id}/events`, auth);
  t.after(() => c.close());
  // Waiting for something not to happen needs a bound: three request_timeouts.
  await Promise.race([c.ended, delay(1000)]);
  assert.equal(c.isEnded, false, 'the stream was cut');
  s.store.appendLog(id, 'out', 'still here');
  await c.waitFor('the line', (e) => e.data.line === 'still here');
});

test('past the cap on open streams the answer is 503 with Retry-After; a closed stream frees its place', async (t) => {
  const s = await servedApp(t, REPO, { events: { maxClients: 2 } });
  const a = await SseClient.open(`${s.url}/api/events`, auth);
  const b = await SseClient.open(`${s.url}/api/events`, auth);
  t.after(() => b.close());
  const third = await s.api('/api/events');
  assert.equal(third.status, 503);
  assert.equal(third.headers.get('retry-after'), '5');
  const body = (await third.json()) as { error: string; message: string };
  assert.equal(body.error, 'overloaded');
  assert.match(body.message, /2 event streams open/);
  a.close();
  const next = await waitUntil('a place to free up', async () => {
    const r = await s.api('/api/events');
    if (r.status === 200) return r;
    await r.body?.cancel();
    return null;
  });
  await next.body?.cancel();
});

test('a client that does not read is dropped once its unread bytes pass the cap; the server goes on', async (t) => {
  const cap = 64 * 1024;
  const s = await servedApp(t, REPO, { events: { bufferCap: cap } });
  const id = queuedJob(s.store);
  const port = new URL(s.url).port;
  const sock = connect(Number(port), '127.0.0.1');
  t.after(() => sock.destroy());
  let received = 0;
  let closed = false;
  sock.on('data', (b: Buffer) => (received += b.length));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(`GET /api/jobs/${id}/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`);
  await waitUntil('the stream to start', () => received > 0);
  sock.pause();
  const line = 'x'.repeat(8 * 1024);
  let written = 0;
  const dropped = () => s.logs.some((l) => /left more than 65536 bytes unread/.test(String(l.msg)));
  // Bounded: the kernel's socket buffers take a few MiB before ours grows; 4000 lines are 32 MiB.
  for (let i = 0; i < 4000 && !dropped(); i++) {
    s.store.appendLog(id, 'out', line);
    written += line.length;
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.ok(dropped(), 'the slow client was dropped');
  sock.resume();
  await waitUntil('the connection to close', () => closed);
  assert.ok(received < written, `received ${received} of ${written} bytes`);
  const health = await fetch(`${s.url}/healthz`);
  assert.equal(health.status, 200);
});

test('closing the server ends the open streams instead of waiting for them', async (t) => {
  const s = await servedApp(t, REPO);
  const c = await SseClient.open(`${s.url}/api/events`, auth);
  const j = await SseClient.open(`${s.url}/api/jobs/${queuedJob(s.store)}/events`, auth);
  await s.app.close();
  await c.ended;
  await j.ended;
});
