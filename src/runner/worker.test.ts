import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { join } from 'node:path';
import { eagerGc, packCount } from '../../test/helpers/git.js';
import { rig } from '../../test/helpers/rig.js';
import { silentLogger } from '../lib/log.js';
import { processStartTime } from '../lib/proc.js';
import { enqueueManual } from './manual.js';
import { isFinal, type Store } from '../store/store.js';
import { Worker } from './worker.js';

/** A live process other than this one, to own a `running` job; killed when the test ends. */
function otherProcess(t: { after(fn: () => unknown): void }): { pid: number; start: string | null; kill(): Promise<void> } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.after(kill);
  const pid = child.pid as number;
  return { pid, start: processStartTime(pid), kill };
}

/** Resolves when job `id` reaches a final state (the store's own event; bounded). */
function finished(store: Store, id: number, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!isFinal(store.getJob(id)?.state ?? '')) return;
      store.off('job', check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      store.off('job', check);
      reject(new Error(`job ${id} did not finish in ${timeoutMs} ms: ${JSON.stringify(store.getJob(id))}`));
    }, timeoutMs);
    store.on('job', check);
    check();
  });
}

test('a job queued behind a job of another live process waits without starving the event loop, then runs once that job ends', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ v: '1' });
  const other = otherProcess(t);
  const foreign = enqueueManual(r.config, r.store, 'site', undefined, false);
  assert.equal(r.store.claim('site', other.pid, other.start)?.id, foreign.id);
  const queued = enqueueManual(r.config, r.store, 'site', undefined, false);
  const worker = new Worker(r.config, r.store, silentLogger());
  t.after(() => worker.stop(0));
  worker.kick('site');
  // A busy retry would keep the microtask queue full: no later turn of the event loop would come.
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.equal(r.store.getJob(queued.id)?.state, 'queued');
  assert.equal(r.store.getJob(foreign.id)?.state, 'running', 'a job of a live process is never taken over');
  // The other process ends its job (it writes the same SQLite file; no event reaches this one).
  r.store.finishJob(foreign.id, 'succeeded', 'done elsewhere');
  await finished(r.store, queued.id);
  assert.equal(r.store.getJob(queued.id)?.state, 'succeeded', r.log(r.store.getJob(queued.id) as never));
});

test('stop() ends a wait for another process at once', async (t) => {
  const r = rig(t);
  const other = otherProcess(t);
  enqueueManual(r.config, r.store, 'site', undefined, false);
  r.store.claim('site', other.pid, other.start);
  enqueueManual(r.config, r.store, 'site', undefined, false);
  const worker = new Worker(r.config, r.store, silentLogger());
  worker.kick('site');
  for (let i = 0; i < 5; i++) await nextTurn();
  const started = Date.now();
  await worker.stop();
  assert.ok(Date.now() - started < 200, `stop took ${Date.now() - started} ms`);
});

test('a job left running by a process that has died is taken over: marked interrupted, its work run', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ v: '1' });
  const other = otherProcess(t);
  const foreign = enqueueManual(r.config, r.store, 'site', undefined, false);
  r.store.claim('site', other.pid, other.start);
  const queued = enqueueManual(r.config, r.store, 'site', undefined, false);
  const worker = new Worker(r.config, r.store, silentLogger());
  t.after(() => worker.stop(0));
  worker.kick('site');
  await nextTurn();
  await other.kill();
  await finished(r.store, queued.id);
  assert.equal(r.store.getJob(foreign.id)?.state, 'interrupted');
  assert.equal(r.store.getJob(queued.id)?.state, 'succeeded');
  assert.ok(r.current(), 'the work was deployed');
});

test('an in-process CLI worker runs only the job it queued, never the server\'s', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ v: '1' });
  const server = r.store.enqueue({ repo: 'site', kind: 'mirror', ref: null, hintSha: null, trigger: 'webhook' });
  const mine = enqueueManual(r.config, r.store, 'site', undefined, false);
  const worker = new Worker(r.config, r.store, silentLogger(), { only: mine.id });
  worker.kick('site');
  await worker.idle();
  assert.equal(r.store.getJob(mine.id)?.state, 'succeeded');
  assert.equal(r.store.getJob(server.id)?.state, 'queued');
});

test('a deploy\'s fetch leaves git gc --auto to the worker, which runs it once the repo is idle; stop() drops a pending one', async (t) => {
  const r = rig(t);
  r.p.pushCommit({ v: '1' });
  await r.deploy();
  const cache = join(r.config.data_dir, 'repos', 'site.git');
  eagerGc(cache);
  const worker = new Worker(r.config, r.store, silentLogger());
  t.after(() => worker.stop(0));
  const deploy = async (v: string) => {
    r.p.pushCommit({ v });
    const { id } = enqueueManual(r.config, r.store, 'site', undefined, false);
    worker.kick('site');
    await finished(r.store, id);
    assert.equal(r.store.getJob(id)?.state, 'succeeded', r.log(r.store.getJob(id) as never));
  };
  await deploy('2');
  await deploy('3');
  assert.equal(packCount(cache), 2, 'no gc on the deploys\' path');
  await worker.idle();
  assert.equal(packCount(cache), 1, 'repacked once the repo was idle');
  await deploy('4');
  await deploy('5');
  await worker.stop(0);
  assert.equal(packCount(cache), 3, 'a stop drops the pending upkeep');
});
