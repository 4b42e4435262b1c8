import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { rig } from '../../test/helpers/rig.js';
import { backend } from '../../test/helpers/backend.js';
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { processStartTime } from '../lib/proc.js';
import { Db } from '../store/db.js';
import { SqliteJobQueue } from '../store/sqlite-job-queue.js';
import { enqueueManual } from './manual.js';
import { Worker } from './worker.js';

/** Resolves at the first log line of job `id` that matches `re`. */
function logLine(store: import('../store/store.js').Store, id: number, re: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const on = (l: { job_id: number; line: string }) => {
      if (l.job_id !== id || !re.test(l.line)) return;
      store.off('log', on);
      resolve();
    };
    store.on('log', on);
  });
}

test('a job whose lease another process took over (a clock that jumped) undoes nothing: no revert under the new owner', async (t) => {
  const health = await backend(t, (_req, res) => res.writeHead(200).end('ok'));
  const r = rig(t, { deployYaml: `      health: { url: "${health}/healthz", timeout: 5s, interval: 20ms }\n      probation: 100ms\n` });
  r.p.pushCommit({ v: '1' });
  assert.equal((await r.deploy()).state, 'succeeded');
  writeFileSync(r.p.configFile, readFileSync(r.p.configFile, 'utf8').replace('probation: 100ms', 'probation: 30s'));
  const config = loadConfig(r.p.configFile);
  r.p.pushCommit({ v: '2' });
  const a = new Worker(config, r.store, silentLogger(), { leaseMs: 300 });
  t.after(() => a.stop(0));
  const { id } = enqueueManual(config, r.store, 'site', undefined, false);
  const inProbation = logLine(r.store, id, /^probation/);
  a.kick('site');
  await inProbation;
  const switched = r.current();

  // Another process, its clock an hour ahead (an NTP step, a resume from suspend): A's lease looks run out.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  await once(other, 'spawn');
  const ahead = new SqliteJobQueue(new Db(r.store.db), { now: () => Date.now() + 3_600_000 });
  const lost = logLine(r.store, id, /taken over by another process/);
  assert.deepEqual((await ahead.recover(() => true)).map((j) => j.id), [id]);
  const next = await ahead.claim('site', { pid: other.pid!, start: processStartTime(other.pid!) });
  assert.ok(next);
  await lost;
  // The new owner runs the work again; the old one must not switch current back meanwhile.
  assert.doesNotMatch(r.log(r.store.getJob(id)!), /revert/);
  assert.equal(r.current(), switched);
  assert.equal(r.store.getRelease('site', r.store.getJob(id)!.release!)?.state, 'switching');
});
