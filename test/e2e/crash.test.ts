import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { allFinal, api, waitForJob, waitForJobs, waitForLog, type ApiJob } from '../helpers/api.js';
import { writeFifo } from '../helpers/fifo.js';

test('kill -9 of the server while a build runs, then a restart: the work finishes and current is on a complete release', async (t) => {
  // Commits with a `gate` file block their build on a FIFO until the test writes to it.
  const p = makeProject(t, { build: ['if [ -f gate ]; then echo waiting; cat "$AUTOPULL_TEST_FIFO" > /dev/null; fi', 'echo complete > built.txt'] });
  const fifo = join(p.dir, 'gate.fifo');
  execFileSync('mkfifo', [fifo]);
  const env = { AUTOPULL_TEST_FIFO: fifo };

  const v1 = p.pushCommit({ v: '1' });
  const first = await serve(p.configFile, t, env);
  const r1 = await deliverPush(first.url, p, v1);
  assert.equal((await waitForJob(first.url, p.token, r1.job)).state, 'succeeded');
  const good = readlinkSync(join(p.deployPath, 'current'));

  const v2 = p.pushCommit({ v: '2', gate: '' });
  const r2 = await deliverPush(first.url, p, v2);
  const killedJob = r2.job;
  await waitForJobs(first.url, p.token, (jobs) => jobs.some((j) => j.id === killedJob && j.state === 'running'));
  // The build itself says it is waiting (so it has started, whatever the store knows of it).
  await waitForLog(first.url, p.token, killedJob, /^waiting$/);
  await first.kill9();

  // Dead server: current still points at the complete old release.
  assert.equal(readlinkSync(join(p.deployPath, 'current')), good);
  assert.equal(readFileSync(join(p.deployPath, 'current', 'built.txt'), 'utf8'), 'complete\n');

  const second = await serve(p.configFile, t, env);
  await second.waitFor(/"msg":"build: if/);
  await writeFifo(fifo);
  const jobs = await waitForJobs(second.url, p.token, allFinal);
  const old = jobs.find((j) => j.id === killedJob) as ApiJob;
  assert.equal(old.state, 'interrupted');
  const retry = jobs.find((j) => j.retry_of === killedJob) as ApiJob;
  assert.equal(retry.state, 'succeeded', retry.reason ?? '');
  assert.equal(retry.target_sha, v2);

  const current = join(p.deployPath, 'current');
  assert.equal(readlinkSync(current), `releases/${retry.release}`);
  assert.equal(readFileSync(join(current, 'built.txt'), 'utf8'), 'complete\n');
  assert.equal(readFileSync(join(current, 'v'), 'utf8'), '2');
  const releases = readdirSync(join(p.deployPath, 'releases'));
  assert.deepEqual(releases.sort(), [good.replace('releases/', ''), retry.release].sort(), 'the half-built release of the killed job is gone');
  const { repos } = await api<{ repos: { running: unknown; queued: unknown }[] }>(second.url, p.token, '/api/repos');
  assert.equal(repos[0]?.running, null);
  assert.equal(repos[0]?.queued, null);
  assert.equal(await second.stop(), 0);
  assert.ok(!existsSync(join(p.dataDir, 'server.json')), 'a clean stop removes server.json');
});
