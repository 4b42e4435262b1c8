import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { buildApp } from '../http/app.js';
import { parseConfigText, type Config } from '../config/load.js';
import { PROVIDER_IDS } from '../config/schema.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { Supervisor } from '../deploy/supervisor.js';
import { Metrics } from './metrics.js';
import { OTHER, stepLabel, UNKNOWN_SENDER } from './labels.js';
import { StepTimer } from './steps.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { gitlabDelivery } from '../../test/helpers/senders.js';
import { parseMetrics, sample, type Sample } from '../../test/helpers/metrics.js';

const SECRET = 'metrics-secret-123';

function setup(t: { after(fn: () => unknown): void }): { dir: string; config: Config; store: Store } {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
auth_token: metrics-token-0123456789
limits: { rate: off }
repos:
  blog: { url: 'https://github.com/acme/blog.git', secret: ${SECRET}, branches: ['*'], deploy: { path: ./srv } }
`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  t.after(() => store.close());
  return { dir, config, store };
}

const rand = () => randomBytes(6).toString('hex');

test('a flood of made-up senders, repos, events and refs adds no series: every label value is from a closed set', async (t) => {
  const { config, store } = setup(t);
  const metrics = new Metrics(config, store);
  t.after(() => metrics.close());
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [], metrics });
  t.after(() => app.close());
  const send = (url: string, headers: Record<string, string>, body: string) => app.inject({ method: 'POST', url, headers, payload: body });
  const series = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    return parseMetrics(res.body).filter((s) => s.name.startsWith('autopull_'));
  };

  const round = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const who = rand();
      // A sender's headers with made-up values, unknown repos in the URL, made-up events.
      await send(`/hooks/${who}`, { 'content-type': 'application/json', 'x-github-event': who, 'user-agent': `GitHub-Hookshot/${who}` }, '{}');
      await send('/hooks/blog', { 'content-type': 'application/json', 'x-gitlab-event': `${who} Hook`, 'x-gitlab-token': who }, '{}');
      await send('/hooks', { 'content-type': 'application/json', 'user-agent': who, [`x-${who}-event`]: 'push' }, JSON.stringify({ sender: who }));
      const bad = gitlabDelivery({ object_kind: who }, who, { event: who });
      await send('/hooks/blog', bad.headers, bad.body);
      // Signed pushes of made-up refs: each queues a job, which then ends in some state.
      const d = githubDelivery('push', githubPush({ ref: `refs/heads/${who}`, after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), SECRET);
      const res = await send('/hooks/blog', d.headers, d.body);
      const job = (res.json().jobs as number[] | undefined)?.[0];
      if (job !== undefined) store.finishJob(job, i % 2 ? 'failed' : 'succeeded', `ref ${who}`, i % 2 ? 'build_failed' : null);
    }
  };
  await round(20);
  const after20 = await series();
  await round(100);
  const after120 = await series();

  const deliveries = after120.filter((s) => s.name === 'autopull_deliveries_total');
  assert.equal(deliveries.reduce((n, s) => n + s.value, 0), 600, 'every delivery is counted');
  for (const s of deliveries) {
    assert.ok([...PROVIDER_IDS, UNKNOWN_SENDER].includes(s.labels.sender as never), `sender label ${s.labels.sender}`);
    assert.match(s.labels.code as string, /^[1-5]\d\d$/);
  }
  assert.equal(sample(after120, 'autopull_deliveries_total', { sender: 'github', code: '202' }), 120);
  const jobs = after120.filter((s) => s.name === 'autopull_jobs_total');
  assert.deepEqual(jobs.map((s) => s.labels.repo).sort(), ['blog', 'blog']);
  assert.equal(jobs.reduce((n, s) => n + s.value, 0), 120);
  const names = (list: Sample[]) => new Set(list.map((s) => `${s.name}${JSON.stringify(s.labels)}`));
  assert.deepEqual([...names(after120)].filter((k) => !names(after20).has(k)), [], '100 more rounds of made-up values made no new series');
  assert.ok(after120.length < 60, `${after120.length} autopull_ samples`);
});

test('app restarts and crashes are counted from a real supervisor, under the repo name', async (t) => {
  const { dir, config, store } = setup(t);
  const metrics = new Metrics(config, store);
  t.after(() => metrics.close());
  const release = join(dir, 'srv', 'releases', '20260101T000000-aaaaaaa');
  mkdirSync(release, { recursive: true });
  // Exits at once: each exit is a crash (before min_uptime); two restarts, then it gives up.
  const sup = new Supervisor({ repo: 'blog', command: 'exit 3', dataDir: join(dir, 'data'), minUptimeMs: 10_000, maxRestarts: 2, minBackoffMs: 10, maxBackoffMs: 20 });
  t.after(() => sup.stop(500));
  metrics.watchApp('blog', sup);
  const gaveUp = once(sup, 'crashed');
  sup.start(release, { PATH: process.env.PATH });
  await gaveUp;
  const s = parseMetrics(await metrics.text());
  assert.equal(sample(s, 'autopull_app_restarts_total', { repo: 'blog' }), 2);
  assert.equal(sample(s, 'autopull_app_crashes_total', { repo: 'blog' }), 3);
});

test('two servers in one process keep their own counts', async (t) => {
  const a = setup(t);
  const b = setup(t);
  const ma = new Metrics(a.config, a.store);
  const mb = new Metrics(b.config, b.store);
  t.after(() => ma.close());
  t.after(() => mb.close());
  const id = a.store.enqueue({ repo: 'blog', ref: 'main', hintSha: null, trigger: 'manual' }).id;
  a.store.finishJob(id, 'succeeded', 'live');
  assert.equal(sample(parseMetrics(await ma.text()), 'autopull_jobs_total', { repo: 'blog', outcome: 'succeeded' }), 1);
  assert.equal(sample(parseMetrics(await mb.text()), 'autopull_jobs_total'), undefined);
  assert.equal(sample(parseMetrics(await ma.text()), 'autopull_queue_depth', { repo: 'blog' }), 0);
  b.store.enqueue({ repo: 'blog', ref: 'main', hintSha: null, trigger: 'manual' });
  assert.equal(sample(parseMetrics(await mb.text()), 'autopull_queue_depth', { repo: 'blog' }), 1);
});

test('steps are timed from their start and done lines; a step open when its job ends failed; labels are step kinds', () => {
  let now = 0;
  const timer = new StepTimer(() => now);
  assert.equal(timer.line({ job_id: 1, stream: 'step', line: 'build: npm ci' }), null);
  now = 1500;
  assert.equal(timer.line({ job_id: 1, stream: 'out', line: 'build: npm ci: done in 1.5s' }), null, 'build output is not a done line');
  assert.deepEqual(timer.line({ job_id: 1, stream: 'info', line: 'build: npm ci: done in 1500ms' }), { job: 1, name: 'build: npm ci', seconds: 1.5, ok: true });
  timer.line({ job_id: 1, stream: 'step', line: 'probation 30s' });
  timer.line({ job_id: 1, stream: 'step', line: 'wait healthy: GET /healthz' });
  now = 2500;
  assert.equal(timer.line({ job_id: 1, stream: 'info', line: 'wait healthy: GET /healthz: done in 1s' })?.seconds, 1);
  now = 4500;
  assert.deepEqual(timer.jobEnded(1), [{ job: 1, name: 'probation 30s', seconds: 3, ok: false }]);
  assert.deepEqual(timer.jobEnded(1), []);
  const labels = ['resolve refs/heads/x', 'fetch https://h/x.git', 'materialise 1a2b3c4 into releases/x', 'link shared', 'build: make', 'stop the app', 'start: node s.js', 'wait healthy: GET /', 'switch current -> releases/x', 'route 127.0.0.1:3000 -> releases/x (PORT 4000)', 'probation 30s', 'restart: systemctl restart x', 'retire releases/y (in-flight requests get 30s, then it stops)', 'prune (keep 5)', 'find the previous good release', 'mirror to 2 target(s)'].map(stepLabel);
  assert.deepEqual(labels, ['resolve', 'fetch', 'materialise', 'link', 'build', 'stop', 'start', 'wait', 'switch', 'route', 'probation', 'restart', 'retire', 'prune', 'find', 'mirror']);
  assert.equal(stepLabel('Ünïcode step'), OTHER);
  assert.equal(stepLabel(`${rand()} step`), OTHER);
});
