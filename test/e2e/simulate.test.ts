import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { SseClient } from '../helpers/sse.js';

// The built server: a simulated push deploys like a real one, and the event streams show it.
test('a simulated GitLab push deploys the remote head; the job stream shows its log to the end and /api/events the delivery', async (t) => {
  const p = makeProject(t, { build: ['echo building $AUTOPULL_SHA'] });
  const sha = p.pushCommit({ 'index.html': 'v1' });
  const server = await serve(p.configFile, t);
  const auth = { authorization: `Bearer ${p.token}` };
  const feed = await SseClient.open(`${server.url}/api/events`, auth);
  t.after(() => feed.close());

  const res = await fetch(`${server.url}/api/repos/site/simulate`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ sender: 'gitlab', ref: 'refs/heads/main' }) });
  const body = (await res.json()) as { jobs: number[]; ledger_id: number; status: string };
  assert.equal(res.status, 202, JSON.stringify(body));
  const job = body.jobs[0] as number;

  const log = await SseClient.open(`${server.url}/api/jobs/${job}/events`, auth);
  await log.ended;
  const end = log.events.at(-1);
  assert.equal(end?.event, 'end');
  assert.equal(end?.data.state, 'succeeded', JSON.stringify(log.events.map((e) => e.data.line ?? e.data.state)));
  const lines = log.events.filter((e) => e.event === 'log').map((e) => e.data.line as string);
  assert.ok(lines.includes(`building ${sha}`), lines.join('\n'));
  const seqs = log.events.filter((e) => e.event === 'log').map((e) => Number(e.id));
  assert.deepEqual(seqs, seqs.map((_s, i) => i + 1), 'every line once, in order');

  const delivery = await feed.waitFor('the delivery', (e) => e.event === 'delivery' && e.data.id === body.ledger_id);
  assert.equal(delivery.data.provider, 'gitlab');
  await feed.waitFor('the job succeeded', (e) => e.event === 'job' && e.data.id === job && e.data.state === 'succeeded');
  const d = (await (await fetch(`${server.url}/api/deliveries/${body.ledger_id}`, { headers: auth })).json()) as { delivery: { headers: Record<string, string> } };
  assert.match(d.delivery.headers['x-autopull-simulated'] ?? '', /^api from /);
  assert.equal(await server.stop(), 0);
});
