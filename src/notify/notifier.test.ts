import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { makeProject, type Project } from '../../test/helpers/project.js';
import { receiver, type Received } from '../../test/helpers/receiver.js';
import { bareRemote } from '../../test/helpers/git.js';
import { loadConfig, type Config } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { enqueueManual, enqueueMirror } from '../runner/manual.js';
import { Worker } from '../runner/worker.js';
import { Store, type Job } from '../store/store.js';
import { verifyStandardWebhook } from '../webhooks/standard-webhooks.js';
import type { Summary } from './message.js';
import { Notifier } from './notifier.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Setup {
  p: Project;
  config: Config;
  store: Store;
  notifier: Notifier;
  logs: { level: number; msg: string }[];
  /** Pushes a commit whose build passes (`ok`) or fails, deploys it and waits for the notifications. */
  deploy(outcome: 'ok' | 'bad'): Promise<Job>;
  mirror(): Promise<Job>;
  /** Closes the notifier and the store, and opens both again on the same data_dir (a restart). */
  restart(): Promise<void>;
}

/** A project whose build passes or fails on a committed file, with a notifier on its store. */
function setup(t: { after(fn: () => unknown): void }, repoYaml: string): Setup {
  const p = makeProject(t, { build: ['grep -qx ok state'], repoYaml });
  const config = loadConfig(p.configFile);
  const logs: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as { level: number; msg: string }) });
  let n = 0;
  const open = () => {
    const store = new Store(join(config.data_dir, 'autopull.db'));
    const notifier = new Notifier(config, store, logger, { baseUrl: 'http://127.0.0.1:8686', backoffMs: 5 }).start();
    return { store, notifier, worker: new Worker(config, store, silentLogger()) };
  };
  let cur = open();
  const s: Setup = {
    p,
    config,
    logs,
    get store() {
      return cur.store;
    },
    get notifier() {
      return cur.notifier;
    },
    async deploy(outcome) {
      p.pushCommit({ state: outcome, n: String(++n) });
      const { id } = enqueueManual(config, cur.store, 'site', undefined, false);
      cur.worker.kick('site');
      await cur.worker.idle();
      await cur.notifier.idle();
      return cur.store.getJob(id) as Job;
    },
    async mirror() {
      const { id } = enqueueMirror(config, cur.store, 'site');
      cur.worker.kick('site');
      await cur.worker.idle();
      await cur.notifier.idle();
      return cur.store.getJob(id) as Job;
    },
    async restart() {
      await cur.notifier.stop(0);
      cur.store.close();
      cur = open();
    },
  };
  t.after(async () => {
    await cur.notifier.stop(0);
    cur.store.close();
  });
  return s;
}

const summary = (r: Received) => JSON.parse(r.body) as Summary;

test('three failures in a row send one signed message and the recovery one more; the receiver verifies each', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", on: [failure, recovery], secret: ${SECRET} }`);
  assert.equal((await s.deploy('ok')).state, 'succeeded');
  assert.equal(hook.requests.length, 0, 'a success is not in on:');
  const failed = [await s.deploy('bad'), await s.deploy('bad'), await s.deploy('bad')];
  assert.deepEqual(failed.map((j) => j.state), ['failed', 'failed', 'failed']);
  assert.equal(hook.requests.length, 1, 'one message for three failures in a row');
  const recovered = await s.deploy('ok');
  assert.equal(hook.requests.length, 2);

  for (const r of hook.requests) {
    const verdict = verifyStandardWebhook({ headers: r.headers as Record<string, string>, rawBody: Buffer.from(r.body), query: {}, remoteAddress: '127.0.0.1' }, SECRET, new Date());
    assert.deepEqual(verdict, { ok: true, method: 'standard-webhooks' });
    assert.equal(r.headers['content-type'], 'application/json');
  }
  const [failure, recovery] = hook.requests.map(summary) as [Summary, Summary];
  assert.equal(failure.event, 'failure');
  assert.equal(failure.job, failed[0]?.id);
  assert.equal(failure.repo, 'site');
  assert.equal(failure.kind, 'deploy');
  assert.equal(failure.state, 'failed');
  assert.equal(failure.failure, 'build_failed');
  assert.equal(failure.failure_description, 'a build command failed');
  assert.equal(failure.sha, failed[0]?.target_sha);
  assert.equal(failure.ref, 'refs/heads/main');
  assert.equal(failure.url, `http://127.0.0.1:8686/jobs/${failed[0]?.id}`);
  assert.equal(typeof failure.duration_seconds, 'number');
  assert.match(failure.text, /^site: deploy of [0-9a-f]{7} \(main\) failed \(build_failed\): /);
  assert.equal(recovery.event, 'recovery');
  assert.equal(recovery.job, recovered.id);
  assert.deepEqual({ state: recovery.previous?.state, jobs: recovery.previous?.jobs }, { state: 'failed', jobs: 3 });
  assert.match(recovery.text, /recovered: .* is live .*after 3 failed jobs since/);
  assert.notEqual(hook.requests[0]?.headers['webhook-id'], hook.requests[1]?.headers['webhook-id']);
});

test('the last notified state survives a restart: a failure after it is not sent again, the recovery is', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", on: [all] }`);
  await s.deploy('ok');
  await s.deploy('bad');
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['success', 'failure']);
  assert.equal(hook.requests[0]?.headers['webhook-signature'], undefined, 'no secret: no signature');
  await s.restart();
  await s.deploy('bad');
  assert.equal(hook.requests.length, 2, 'still failing after the restart: nothing new');
  await s.deploy('ok');
  await s.deploy('ok');
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['success', 'failure', 'recovery', 'success']);
});

test('a receiver answering 500 gets the bounded number of retries, then one refusing connections too; every deploy is unaffected', async (t) => {
  const hook = await receiver(t, 500);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", retries: 2, secret: ${SECRET} }`);
  const ok = await s.deploy('ok');
  assert.equal(ok.state, 'succeeded');
  assert.equal(hook.requests.length, 3, 'the first attempt and 2 retries');
  assert.equal(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size, 1, 'retries keep the message id');
  assert.ok(s.logs.some((l) => /failed \(answered 500\); gave up after 3 attempts/.test(l.msg)), JSON.stringify(s.logs));

  await hook.close();
  const bad = await s.deploy('bad');
  assert.equal(bad.state, 'failed');
  assert.equal(bad.failure, 'build_failed', 'the job keeps its own outcome');
  assert.ok(s.logs.some((l) => /failed \(ECONNREFUSED\); gave up after 3 attempts/.test(l.msg)), JSON.stringify(s.logs));
  assert.equal(hook.requests.length, 3);
  const logged = JSON.stringify(s.logs);
  assert.ok(!logged.includes('secret-path') && !logged.includes(SECRET), 'the url path and the secret are never logged');
});

test('a receiver that never answers does not hold up the deploy; a stop aborts the request', async (t) => {
  const hook = await receiver(t, 'hang');
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", timeout: 5m }`);
  const p = s.p;
  p.pushCommit({ state: 'ok' });
  const { id } = enqueueManual(s.config, s.store, 'site', undefined, false);
  const worker = new Worker(s.config, s.store, silentLogger());
  worker.kick('site');
  await worker.idle();
  assert.equal(s.store.getJob(id)?.state, 'succeeded', 'the job ended while its notification was not answered');
  await hook.received(1);
  await s.notifier.stop(0);
  assert.ok(s.logs.some((l) => /failed \(aborted at stop\); autopull is stopping/.test(l.msg)), JSON.stringify(s.logs));
});

test('format slack sends {text, blocks} with a link to the job', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", format: slack, on: failure }`);
  await s.deploy('ok');
  const bad = await s.deploy('bad');
  assert.equal(hook.requests.length, 1);
  const body = JSON.parse(hook.requests[0]?.body ?? '{}') as { text: string; blocks: { type: string }[] };
  assert.match(body.text, /^:x: \*site\*: deploy of [0-9a-f]{7} \(main\) failed \(build_failed\): /);
  assert.ok(body.text.endsWith(`<http://127.0.0.1:8686/jobs/${bad.id}|job ${bad.id}>`), body.text);
  assert.deepEqual(body.blocks.map((b) => b.type), ['section', 'context']);
});

test('a mirror target failing on every run sends one mirror_failure, and mirror_recovery once it takes the push', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    mirror:\n      - url: ./mirror.git\n    notify:\n      - { url: "${hook.url}", on: [mirror_failure, mirror_recovery] }`);
  s.p.pushCommit({ state: 'ok' });
  await s.mirror();
  await s.mirror();
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['mirror_failure']);
  const first = summary(hook.requests[0] as Received);
  assert.equal(first.mirror?.target, join(s.p.dir, 'mirror.git'));
  assert.equal(first.mirror?.state, 'failed');
  bareRemote(join(s.p.dir, 'mirror.git'));
  await s.mirror();
  await s.mirror();
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['mirror_failure', 'mirror_recovery']);
  assert.equal(summary(hook.requests[1] as Received).previous?.jobs, 2);
});

test('a deploy that a delivery started reports push to live from the delivery\'s arrival', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", on: success }`);
  s.p.pushCommit({ state: 'ok' });
  const receivedAt = new Date(Date.now() - 120_000).toISOString();
  const delivery = { delivery_id: 'd-1', provider: 'github', event: 'push', repo: 'site', received_at: receivedAt, remote_addr: '127.0.0.1', status_code: 202, outcome: 'queued', message: 'queued', headers: {}, body: Buffer.from('{}'), body_truncated: false };
  const { jobs } = s.store.recordDelivery(delivery, [{ repo: 'site', ref: 'refs/heads/main', hintSha: null }]);
  const worker = new Worker(s.config, s.store, silentLogger());
  worker.kick('site');
  await worker.idle();
  await s.notifier.idle();
  const sent = summary(hook.requests[0] as Received);
  assert.equal(sent.job, jobs[0]);
  assert.equal(sent.trigger, 'webhook');
  assert.ok(sent.push_to_live_seconds !== null && sent.push_to_live_seconds >= 120, String(sent.push_to_live_seconds));
});

test('restart jobs send no notification: neither their failure nor a recovery after it, and they leave the deploy track as it was', async (t) => {
  const hook = await receiver(t);
  const s = setup(t, `    notify:\n      - { url: "${hook.url}", on: [all] }`);
  await s.deploy('ok');
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['success']);
  for (const outcome of ['failed', 'failed', 'succeeded'] as const) {
    const { id } = s.store.enqueue({ repo: 'site', kind: 'restart', ref: null, hintSha: null, trigger: 'manual' });
    assert.equal(s.store.claim('site', process.pid)?.id, id);
    s.store.finishJob(id, outcome, outcome === 'failed' ? 'the app did not come back' : 'restarted', outcome === 'failed' ? 'health_failed' : null);
    await s.notifier.idle();
  }
  assert.equal(hook.requests.length, 1, 'nothing for the restarts');
  await s.deploy('bad');
  assert.deepEqual(hook.requests.map((r) => summary(r).event), ['success', 'failure'], 'the deploy track was still ok');
});
