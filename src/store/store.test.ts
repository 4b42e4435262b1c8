import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from './store.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { tempDir } from '../../test/helpers/tmp.js';

function open(t: { after(fn: () => unknown): void }): Store {
  const store = new Store(join(tempDir(t), 'autopull.db'));
  t.after(() => store.close());
  return store;
}

test('latest wins: pushes while a job runs merge into one queued job for the newest head', (t) => {
  const store = open(t);
  const a = store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'a'.repeat(40), trigger: 'webhook' });
  const running = store.claim('site', process.pid);
  assert.equal(running?.id, a.id);
  const b = store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'b'.repeat(40), trigger: 'webhook', deliveries: [1] });
  const c = store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'c'.repeat(40), trigger: 'webhook', deliveries: [2] });
  assert.equal(b.coalesced, false);
  assert.equal(c.coalesced, true);
  assert.equal(c.id, b.id);
  const queued = store.getJob(b.id);
  assert.equal(queued?.hint_sha, 'c'.repeat(40));
  assert.deepEqual(queued?.deliveries, [1, 2]);
  assert.equal(store.claim('site', process.pid), null, 'a second job of the same repo never runs beside the first');
  store.finishJob(a.id, 'succeeded', 'ok');
  assert.equal(store.claim('site', process.pid)?.id, b.id);
});

test('repos do not wait for each other', (t) => {
  const store = open(t);
  store.enqueue({ repo: 'a', ref: null, hintSha: null, trigger: 'manual' });
  store.enqueue({ repo: 'b', ref: null, hintSha: null, trigger: 'manual' });
  assert.ok(store.claim('a', 1));
  assert.ok(store.claim('b', 1));
});

test('a job left running by a dead process is marked interrupted and queued again', (t) => {
  const store = open(t);
  const { id } = store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'a'.repeat(40), trigger: 'webhook', deliveries: [7] });
  store.claim('site', 999_999);
  const recovered = store.recoverInterrupted(() => false);
  assert.deepEqual(recovered.map((j) => j.id), [id]);
  const old = store.getJob(id);
  assert.equal(old?.state, 'interrupted');
  assert.match(old?.reason ?? '', /queued again/);
  const [next] = store.listJobs({ repo: 'site', states: ['queued'] });
  assert.equal(next?.retry_of, id);
  assert.equal(next?.trigger, 'recovery');
  assert.deepEqual(store.getJob(next?.id ?? 0)?.deliveries, [7]);
  assert.deepEqual(store.recoverInterrupted(() => false), [], 'recovery is idempotent');
});

test('a job whose owner is alive is left alone', (t) => {
  const store = open(t);
  store.enqueue({ repo: 'site', ref: null, hintSha: null, trigger: 'manual' });
  store.claim('site', 1234);
  assert.deepEqual(store.recoverInterrupted((pid) => pid === 1234), []);
});

test('job logs keep their order per job', (t) => {
  const store = open(t);
  store.appendLog(1, 'step', 'fetch');
  store.appendLog(2, 'step', 'other job');
  store.appendLog(1, 'out', 'line');
  assert.deepEqual(store.logsAfter(1).map((l) => [l.seq, l.line]), [[1, 'fetch'], [2, 'line']]);
  assert.deepEqual(store.logsAfter(1, 1).map((l) => l.line), ['line']);
});

test('a running job whose owner pid now belongs to another process is recovered', (t) => {
  const store = open(t);
  store.enqueue({ repo: 'site', ref: null, hintSha: null, trigger: 'manual' });
  // This test process's pid, but a start time it never had: the owner died, the pid was reused.
  store.claim('site', process.pid, 'not-this-process');
  const recovered = store.recoverInterrupted((pid, start) => isSameProcessAlive(pid, start));
  assert.equal(recovered.length, 1);
});

test('recovery never overwrites a newer queued job: it only adds its deliveries', (t) => {
  const store = open(t);
  const old = store.enqueue({ repo: 'site', ref: 'refs/tags/v1', hintSha: 'a'.repeat(40), trigger: 'manual', force: true });
  store.claim('site', 999_999, null);
  const newer = store.enqueue({ repo: 'site', ref: 'refs/heads/main', hintSha: 'b'.repeat(40), trigger: 'webhook', deliveries: [5] });
  store.recoverInterrupted(() => false);
  const job = store.getJob(newer.id);
  assert.equal(job?.ref, 'refs/heads/main');
  assert.equal(job?.hint_sha, 'b'.repeat(40));
  assert.equal(job?.force, false, 'a forced manual job does not lend its force to a later push');
  assert.equal(store.getJob(old.id)?.state, 'interrupted');
});

test('a new push replaces the queued one entirely, force included', (t) => {
  const store = open(t);
  store.enqueue({ repo: 'a', ref: null, hintSha: null, trigger: 'manual' });
  store.claim('a', process.pid);
  const forced = store.enqueue({ repo: 'a', ref: 'refs/heads/main', hintSha: null, trigger: 'manual', force: true });
  store.enqueue({ repo: 'a', ref: 'refs/heads/main', hintSha: 'c'.repeat(40), trigger: 'webhook' });
  assert.equal(store.getJob(forced.id)?.force, false);
  assert.equal(store.getJob(forced.id)?.trigger, 'webhook');
});
