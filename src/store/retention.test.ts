import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { startServer } from '../daemon/start.js';
import { databasePath } from '../daemon/paths.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { waitUntil } from '../../test/helpers/app.js';
import { Store, type Job } from './store.js';
import { prune, type RetentionPolicy } from './retention.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

/** A ledger row received at `receivedAt`; `job` queues a job for that repo linked to it. */
function deliver(store: Store, status: number, receivedAt: string, job?: string): { id: number; jobs: number[] } {
  return store.recordDelivery(
    {
      delivery_id: `d-${Math.random()}`,
      provider: 'github',
      event: 'push',
      repo: job ?? 'blog',
      received_at: receivedAt,
      remote_addr: '127.0.0.1',
      status_code: status,
      outcome: status < 300 ? 'queued' : 'signature_mismatch',
      message: 'test',
      headers: {},
      body: Buffer.from('{}'),
      body_truncated: false,
    },
    job ? [{ repo: job, ref: 'refs/heads/main', hintSha: null }] : [],
  );
}

/** Claims the repo's queued job and writes `lines` log lines; `finish` ends it (at the clock's now). */
function run(store: Store, repo: string, lines: number, finish: boolean): Job {
  const job = store.claim(repo, process.pid);
  assert.ok(job, `a queued job for ${repo}`);
  for (let i = 0; i < lines; i++) store.appendLog(job.id, 'out', `line ${i}`);
  if (finish) store.finishJob(job.id, 'succeeded', null);
  return job;
}

const jobsWithLogs = (store: Store) => (store.db.prepare(`SELECT DISTINCT job_id FROM job_logs ORDER BY job_id`).pluck().all() as number[]);

test('prune deletes exactly the deliveries and job logs past their age or count, never what a queued or running job needs', async (t) => {
  const store = new Store(join(tempDir(t), 'autopull.db'));
  t.after(() => store.close());
  // Jobs take their timestamps from the clock: these ran 100 days ago.
  t.mock.timers.enable({ apis: ['Date'], now: NOW - 100 * DAY });
  const oldAccepted = deliver(store, 202, ago(40 * DAY)).id;
  const queuedRef = deliver(store, 202, ago(40 * DAY), 'q').id;
  const runningRef = deliver(store, 202, ago(40 * DAY), 'r').id;
  const finishedRef = deliver(store, 202, ago(40 * DAY), 'f').id;
  const finishedOld = run(store, 'f', 3, true);
  const running = run(store, 'r', 2, false);
  const oldRejected = [deliver(store, 403, ago(8 * DAY)).id, deliver(store, 401, ago(8 * DAY)).id];

  t.mock.timers.setTime(NOW - DAY);
  const newAccepted = Array.from({ length: 7 }, () => deliver(store, 200, ago(DAY)).id);
  const recent: Job[] = [];
  for (let i = 0; i < 5; i++) {
    store.enqueue({ repo: `n${i}`, ref: 'refs/heads/main', hintSha: null, trigger: 'manual' });
    recent.push(run(store, `n${i}`, 2, true));
  }
  // A flood of rejected deliveries, newer than every accepted one: counted apart, it pushes none of them out.
  const newRejected = Array.from({ length: 6 }, () => deliver(store, 404, ago(3_600_000)).id);
  t.mock.timers.reset();

  const policy: RetentionPolicy = {
    interval: 600_000,
    deliveries: { max_age: 30 * DAY, max_count: 5 },
    rejected: { max_age: 7 * DAY, max_count: 3 },
    job_logs: { max_age: 90 * DAY, max_jobs: 4 },
  };
  const result = await prune(store.db, policy, new Date(NOW), { batch: 2 });

  const left = store.db.prepare(`SELECT id FROM deliveries ORDER BY id`).pluck().all() as number[];
  // Accepted: the newest 5 of the class stay, and the old ones a queued or running job still references.
  const expected = [queuedRef, runningRef, ...newAccepted.slice(2), ...newRejected.slice(3)].sort((a, b) => a - b);
  assert.deepEqual(left, expected);
  assert.ok(!left.includes(oldAccepted) && !left.includes(finishedRef) && !oldRejected.some((id) => left.includes(id)));
  assert.deepEqual(result, { deliveries: 4, rejected: 5, log_lines: 3 + 2 });
  // Logs: the running job's (100 days old) stays; the old finished one's goes, and the one over max_jobs.
  assert.deepEqual(jobsWithLogs(store), [running.id, ...recent.slice(1).map((j) => j.id)]);
  assert.equal(store.logsAfter(finishedOld.id).length, 0);
  assert.equal(store.getJob(finishedOld.id)?.state, 'succeeded', 'the job row itself is kept');

  assert.deepEqual(await prune(store.db, policy, new Date(NOW)), { deliveries: 0, rejected: 0, log_lines: 0 }, 'a second run finds nothing');
});

/** A server on 127.0.0.1 whose config holds `retention`; `before` writes to its database first. */
async function server(t: { after(fn: () => unknown): void }, retention: string, before?: (store: Store) => void) {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, `listen: 127.0.0.1:0\ndata_dir: ./data\nlimits: { rate: off }\nretention: ${retention}\nrepos:\n  blog: { url: 'https://github.com/acme/blog.git', secret: retention-secret-1, deploy: { path: ./srv } }\n`);
  const config = loadConfig(file);
  if (before) {
    const store = new Store(databasePath(config));
    before(store);
    store.close();
  }
  const s = await startServer(config, silentLogger());
  t.after(() => s.close());
  return s;
}

const count = (store: Store, where: string) => store.db.prepare(`SELECT count(*) FROM deliveries WHERE ${where}`).pluck().get() as number;

test('the server prunes in the background on its interval: rows past max_age go without any request', async (t) => {
  const old = () => new Date(Date.now() - 2 * DAY).toISOString();
  const s = await server(t, '{ interval: 100ms, rejected: { max_age: 1d } }', (store) => {
    for (let i = 0; i < 3; i++) deliver(store, 403, old());
    deliver(store, 403, new Date().toISOString());
  });
  await waitUntil('old rejected rows found at start to go', () => count(s.store, 'status_code = 403') === 1, 10_000);
  // Written while the server runs, one by one (too few to trigger a prune by count): only the timer removes them.
  for (let i = 0; i < 3; i++) deliver(s.store, 401, old());
  await waitUntil('old rows written later to go', () => count(s.store, 'status_code = 401') === 0, 10_000);
  assert.equal(count(s.store, 'status_code = 403'), 1, 'the recent row stays');
});

test('a flood of rejected deliveries is pruned as it arrives, not only on the timer', async (t) => {
  const s = await server(t, '{ interval: 1h, rejected: { max_count: 10 } }');
  let most = 0;
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${s.url}/hooks/blog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: '{}',
    });
    assert.equal(res.status, 403);
    most = Math.max(most, count(s.store, 'status_code = 403'));
  }
  // A run starts each time max_count new rows came in since the last one began: at most about twice max_count stay.
  assert.ok(most <= 30, `at most ${most} rejected rows were stored at once`);
  await waitUntil('the rejected rows to be under twice max_count', () => count(s.store, 'status_code = 403') < 20, 10_000);
  const kept = s.store.db.prepare(`SELECT min(id) AS first, max(id) AS last, count(*) AS n FROM deliveries`).get() as { first: number; last: number; n: number };
  assert.equal(kept.last - kept.first + 1, kept.n, 'the newest rows are the ones kept');
});
