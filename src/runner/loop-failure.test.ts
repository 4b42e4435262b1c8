import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig } from '../../test/helpers/rig.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { JobQueue } from '../store/job-queue.js';
import { enqueueManual } from './manual.js';
import { Worker } from './worker.js';

test('a job loop whose claim fails (a full disk) is tried again on a timer, not at once: the event loop keeps turning', async (t) => {
  const r = rig(t, {});
  const { id } = enqueueManual(r.config, r.store, 'site', undefined, false);
  let failing = true;
  let claims = 0;
  const q = r.store.queue;
  const queue: JobQueue = {
    enqueue: (i) => q.enqueue(i),
    claim: async (repo, owner, opts) => {
      claims++;
      if (failing) throw new Error('SQLITE_FULL: database or disk is full');
      return q.claim(repo, owner, opts);
    },
    heartbeat: (i, o) => q.heartbeat(i, o),
    finish: (i, o, out) => q.finish(i, o, out),
    requeue: (i, o, why) => q.requeue(i, o, why),
    recover: (alive) => q.recover(alive),
    get: (i) => q.get(i),
    running: (repo) => q.running(repo),
    queuedRepos: () => q.queuedRepos(),
  };
  const errors: string[] = [];
  const base = silentLogger();
  const logger = Object.assign(Object.create(base) as Logger, { error: (_o: unknown, msg: string) => errors.push(msg) });
  const w = new Worker(r.config, r.store, logger, { queue });
  t.after(() => w.stop(0));
  w.kick('site');
  // Before: the loop was kicked again from its own end, in microtasks, forever: the event loop
  // never turned again (no HTTP, no SIGTERM), and this never resolved.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(claims, 1);
  assert.match(errors[0] ?? '', /the job loop failed: SQLITE_FULL.*trying again in 1000 ms/);
  // The disk has room again: the retry runs the job.
  failing = false;
  const done = new Promise<void>((resolve) => {
    const on = (jobId: number) => {
      if (jobId !== id || r.store.getJob(id)?.state === 'running' || r.store.getJob(id)?.state === 'queued') return;
      r.store.off('job', on);
      resolve();
    };
    r.store.on('job', on);
  });
  await done;
  assert.equal(claims >= 2, true);
});
