import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { backend } from '../helpers/backend.js';
import { deliverPush } from '../helpers/github.js';
import { allFinal, waitForJob, waitForJobs, type ApiJob } from '../helpers/api.js';
import { writeFifo } from '../helpers/fifo.js';

test('kill -9 between the switch and the end of restart: the next start runs the restart again and finishes the release', async (t) => {
  const p = makeProject(t, { restart: 'if [ -f gate ]; then cat "$AUTOPULL_TEST_FIFO" > /dev/null; fi; echo "restarted $(cat v)" >> ../../restarts.log' });
  const fifo = join(p.dir, 'gate.fifo');
  execFileSync('mkfifo', [fifo]);
  const env = { AUTOPULL_TEST_FIFO: fifo };
  const v1 = p.pushCommit({ v: '1' });
  const first = await serve(p.configFile, t, env);
  const r1 = await deliverPush(first.url, p, v1);
  assert.equal((await waitForJob(first.url, p.token, r1.job)).state, 'succeeded');

  const v2 = p.pushCommit({ v: '2', gate: '' });
  const r2 = await deliverPush(first.url, p, v2);
  const killed = r2.job;
  await first.waitFor(new RegExp(`"job":${killed},[^\n]*"msg":"restart: `));
  await first.kill9();
  assert.equal(readFileSync(join(p.deployPath, 'current', 'v'), 'utf8'), '2', 'killed after the switch');

  const second = await serve(p.configFile, t, env);
  await second.waitFor(/"msg":"restart: /);
  await writeFifo(fifo);
  const jobs = await waitForJobs(second.url, p.token, allFinal);
  assert.equal(jobs.find((j) => j.id === killed)?.state, 'interrupted');
  const retry = jobs.find((j) => j.retry_of === killed) as ApiJob;
  assert.equal(retry.state, 'succeeded', retry.reason ?? '');
  assert.match(retry.reason ?? '', /checks finished after a restart of autopull/);
  assert.equal(readFileSync(join(p.deployPath, 'restarts.log'), 'utf8'), 'restarted 1\nrestarted 2\n');
  assert.equal(await second.stop(), 0);
});

test('kill -9 during probation: the next start watches the release through probation again', async (t) => {
  let deployPath = '';
  const health = await backend(t, (_req, res) => {
    let body = 'none';
    try {
      body = readFileSync(join(deployPath, 'current', 'health'), 'utf8').trim();
    } catch {
      // nothing live
    }
    res.writeHead(body === 'ok' ? 200 : 500).end(body);
  });
  const p = makeProject(t, { deployYaml: `      health: { url: "${health}/healthz", timeout: 5s, interval: 50ms }\n      probation: 2s\n` });
  deployPath = p.deployPath;
  const v1 = p.pushCommit({ v: '1', health: 'ok' });
  const first = await serve(p.configFile, t);
  const r1 = await deliverPush(first.url, p, v1);
  const job1 = await waitForJob(first.url, p.token, r1.job);
  assert.equal(job1.state, 'succeeded');

  const v2 = p.pushCommit({ v: '2', health: 'ok' });
  const r2 = await deliverPush(first.url, p, v2);
  const killed = r2.job;
  await first.waitFor(new RegExp(`"job":${killed},[^\n]*"msg":"probation 2s"`));
  await first.kill9();

  const second = await serve(p.configFile, t);
  const jobs = await waitForJobs(second.url, p.token, allFinal);
  assert.equal(jobs.find((j) => j.id === killed)?.state, 'interrupted');
  const retry = jobs.find((j) => j.retry_of === killed) as ApiJob;
  assert.equal(retry.state, 'succeeded', retry.reason ?? '');
  assert.match(second.output(), /"msg":"probation 2s"/, 'probation ran again');
  assert.equal(readlinkSync(join(p.deployPath, 'current')), `releases/${retry.release}`);
  assert.equal(readFileSync(join(p.deployPath, 'current', 'v'), 'utf8'), '2');
  assert.equal(await second.stop(), 0);
});
