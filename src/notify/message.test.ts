import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../store/types.js';
import { eventFor, wants } from './decide.js';
import { slackMessage, summarize } from './message.js';

const JOB: Job = {
  id: 7, repo: 'blog', kind: 'deploy', ref: 'refs/heads/<main>', hint_sha: null, target_sha: 'a'.repeat(40), force: false, state: 'failed',
  reason: 'build: make: exit 2: <b>&boom</b>', failure: 'build_failed', trigger: 'webhook', release: null, created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:10.000Z', started_at: '2026-01-01T00:00:01.000Z', finished_at: '2026-01-01T00:00:13.500Z', owner_pid: null,
  owner_start: null, child_pid: null, retry_of: null, params: null, deliveries: [],
};

test('a track sends on a change of state only: first failure, recovery, and each success', () => {
  assert.equal(eventFor('job', null, 'failed'), 'failure');
  assert.equal(eventFor('job', { state: 'failed' }, 'failed'), null);
  assert.equal(eventFor('job', { state: 'failed' }, 'ok'), 'recovery');
  assert.equal(eventFor('job', { state: 'ok' }, 'ok'), 'success');
  assert.equal(eventFor('mirror', null, 'ok'), null, 'a healthy mirror stays quiet');
  assert.equal(eventFor('mirror', { state: 'ok' }, 'failed'), 'mirror_failure');
  assert.equal(eventFor('mirror', { state: 'failed' }, 'failed'), null);
  assert.equal(eventFor('mirror', { state: 'failed' }, 'ok'), 'mirror_recovery');
  assert.equal(wants(['success'], 'recovery'), true, 'a recovery is a success too');
  assert.equal(wants(['failure'], 'mirror_failure'), false);
  assert.equal(wants(['all'], 'mirror_recovery'), true);
});

test('slack text escapes what came from outside and links the job', () => {
  const s = summarize({ event: 'failure', job: JOB, ref: JOB.ref, previous: null, firstDeliveryAt: null, url: 'https://deploy.example.com/jobs/7', host: 'web1', version: '1.0.0' });
  assert.equal(s.duration_seconds, 12.5);
  assert.equal(s.push_to_live_seconds, null, 'only a deploy that went live has one');
  const m = slackMessage(s);
  assert.equal(m.text, ':x: *blog*: deploy of aaaaaaa (&lt;main&gt;) failed (build_failed): build: make: exit 2: &lt;b&gt;&amp;boom&lt;/b&gt;; later failures in a row are not announced <https://deploy.example.com/jobs/7|job 7>');
  assert.equal(s.text, 'blog: deploy of aaaaaaa (<main>) failed (build_failed): build: make: exit 2: <b>&boom</b>; later failures in a row are not announced');
});
