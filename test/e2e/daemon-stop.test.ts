import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, type Project } from '../helpers/project.js';
import { deliverPush } from '../helpers/github.js';
import { waitForJobs } from '../helpers/api.js';
import { alive, startDaemon, waitForLine } from '../helpers/daemon.js';
import { Store } from '../../src/store/store.js';
import { writeFifo } from '../helpers/fifo.js';

/**
 * A project whose build blocks until the test writes a line into a FIFO (an event, not a
 * timer), unless the file `go` exists; `started` appears when a build is waiting.
 */
function blockingProject(t: { after(fn: () => unknown): void }, grace: string): Project & { fifo: string; started: string; go: string } {
  const p0 = makeProject(t, { build: [] });
  const fifo = join(p0.dir, 'fifo');
  const started = join(p0.dir, 'started');
  const go = join(p0.dir, 'go');
  execFileSync('mkfifo', [fifo]);
  const script = join(p0.dir, 'build.sh');
  writeFileSync(script, `[ -e ${JSON.stringify(go)} ] && exit 0\ntouch ${JSON.stringify(started)}\nread line < ${JSON.stringify(fifo)}\n`);
  const text = readFileSync(p0.configFile, 'utf8').replace('shutdown_grace: 10s\n', `shutdown_grace: ${grace}\n`).replace('build: []', `build: [${JSON.stringify(`sh ${script}`)}]`);
  writeFileSync(p0.configFile, text);
  return { ...p0, fifo, started, go };
}

function jobsIn(dataDir: string) {
  const store = new Store(join(dataDir, 'autopull.db'));
  try {
    return store.listJobs({ limit: 50 });
  } finally {
    store.close();
  }
}

test('stop while a job runs: no new job starts, the running one finishes within shutdown_grace, then the daemon exits', async (t) => {
  const p = blockingProject(t, '1m');
  const d = await startDaemon(p.configFile, t);
  const sha = p.pushCommit({ v: '1' });
  const { job } = await deliverPush(d.url, p, sha);
  await waitForLine(p.started, /^/);

  const stopping = d.stop();
  await waitForLine(d.logFile, new RegExp(`"job":${job}.*gets up to 60s to finish`));
  // The server still takes deliveries while the job drains; their jobs wait for the next start.
  const later = await deliverPush(d.url, p, p.pushCommit({ v: '2' }));
  assert.equal(later.status, 202);
  await writeFifo(p.fifo);
  const stopped = await stopping;
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!alive(d.pid));
  assert.ok(!existsSync(d.pidFile));

  const jobs = jobsIn(p.dataDir);
  assert.equal(jobs.find((j) => j.id === job)?.state, 'succeeded');
  assert.equal(jobs.find((j) => j.id === later.job)?.state, 'queued', 'no new job started during the stop');
  assert.match(readlinkSync(join(p.deployPath, 'current')), new RegExp(sha.slice(0, 7)));
});

test('stop past shutdown_grace: the job is recorded interrupted, and the next start runs its work again', async (t) => {
  const p = blockingProject(t, '1s');
  const d = await startDaemon(p.configFile, t);
  const sha = p.pushCommit({ v: '1' });
  const { job } = await deliverPush(d.url, p, sha);
  await waitForLine(p.started, /^/);

  const stopped = await d.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!alive(d.pid));
  const log = readFileSync(d.logFile, 'utf8');
  assert.match(log, new RegExp(`"job":${job},"repo":"site".*did not finish within shutdown_grace`));
  const jobs = jobsIn(p.dataDir);
  const cut = jobs.find((j) => j.id === job);
  assert.equal(cut?.state, 'interrupted');
  const retry = jobs.find((j) => j.retry_of === job);
  assert.equal(retry?.state, 'queued', 'its work is queued for the next start');
  assert.ok(!existsSync(join(p.deployPath, 'current')), 'nothing went live');

  writeFileSync(p.go, '');
  const next = await startDaemon(p.configFile, t);
  const done = await waitForJobs(next.url, p.token, (js) => js.some((j) => j.id === retry?.id && !['queued', 'running'].includes(j.state)));
  const resumed = done.find((j) => j.id === retry?.id);
  assert.equal(resumed?.state, 'succeeded', resumed?.reason ?? '');
  assert.match(readlinkSync(join(p.deployPath, 'current')), new RegExp(sha.slice(0, 7)));
  assert.equal((await next.stop()).code, 0);
});
