import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { api, waitForJob, waitForJobs, type ApiJob } from '../helpers/api.js';
import { APP_START, freePort, servesVersion } from '../helpers/app.js';

test('a supervised release whose health wait was cut by a stop of autopull is never a rollback target', async (t) => {
  const port = await freePort();
  // Health waits up to 60 s: longer than the server's stop grace, so the stop lands inside it.
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 200ms\n      stop_timeout: 2s\n      probation: 0s\n      health: { url: /healthz, timeout: 60s, interval: 20ms }\n`,
  });
  const v1 = p.pushCommit({ version: '1' });
  const first = await serve(p.configFile, t);
  const r1 = await deliverPush(first.url, p, v1);
  const j1 = await waitForJob(first.url, p.token, r1.job);
  assert.equal(j1.state, 'succeeded', j1.reason ?? '');
  const good = j1.release as string;

  // v2 never gets healthy; autopull is stopped (SIGTERM) while the gate waits for it.
  const v2 = p.pushCommit({ version: '2', health: 'bad' });
  const r2 = await deliverPush(first.url, p, v2);
  await first.waitFor(new RegExp(`"job":${r2.job},[^\n]*"msg":"wait healthy: `));
  const orphan = (await waitForJob(first.url, p.token, r2.job, 1000).catch(() => null))?.release ?? null;
  assert.equal(await first.stop(), 0);

  // Meanwhile v3 is pushed; the next start finishes the interrupted work by deploying it.
  const v3 = p.pushCommit({ version: '3', health: 'ok' });
  const second = await serve(p.configFile, t);
  const jobs = await waitForJobs(second.url, p.token, (js) => js.some((j) => j.retry_of === r2.job && j.state === 'succeeded'));
  const interrupted = jobs.find((j) => j.id === r2.job) as ApiJob;
  assert.equal(interrupted.state, 'interrupted');
  const orphanRelease = orphan ?? interrupted.release;
  assert.ok(orphanRelease, 'the interrupted job had made a release');
  await servesVersion(port, /^version 3 /);
  assert.equal(readlinkSync(join(p.deployPath, 'current')).endsWith(v3.slice(0, 7)), true);

  // Rollback goes to v1's release, which passed its health check, never to v2's.
  const res = await api<{ ok: boolean; jobs: number[] }>(second.url, p.token, '/api/repos/site/rollback', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  const rb = await waitForJob(second.url, p.token, res.jobs[0] as number);
  assert.equal(rb.state, 'succeeded', rb.reason ?? '');
  assert.equal(rb.release, good);
  assert.equal(readlinkSync(join(p.deployPath, 'current')), `releases/${good}`);
  await servesVersion(port, /^version 1 /);
  assert.notEqual(rb.release, orphanRelease);
  assert.equal(existsSync(join(p.deployPath, 'releases', orphanRelease as string)), false, 'the never-checked release was pruned');
  assert.equal(await second.stop(), 0);
});
