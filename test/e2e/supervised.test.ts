import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';
import { APP_START, freePort, get, servesVersion, waitUntil } from '../helpers/app.js';

test('kill -9 of the server leaves its app behind; the next start replaces it and serves current again; a clean stop stops the app', async (t) => {
  const port = await freePort();
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 300ms\n      stop_timeout: 2s\n      probation: 0s\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n`,
  });
  const pidFile = join(p.dataDir, 'apps', 'site.json');
  const appPid = () => (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
  t.after(() => {
    try {
      process.kill(-appPid(), 'SIGKILL');
    } catch {
      // gone
    }
  });
  const v1 = p.pushCommit({ version: '1' });
  const first = await serve(p.configFile, t);
  const r1 = await deliverPush(first.url, p, v1);
  const job = await waitForJob(first.url, p.token, r1.job);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  await servesVersion(port, /^version 1 /);
  const oldPid = appPid();

  await first.kill9();
  assert.match((await get(port))?.body ?? '', /^version 1 /, 'the app outlives a kill -9 of autopull');

  const started = Date.now();
  const second = await serve(p.configFile, t);
  await waitUntil('a new app pid', () => {
    try {
      return appPid() !== oldPid;
    } catch {
      return false;
    }
  });
  await servesVersion(port, /^version 1 /);
  const back = Date.now() - started;
  assert.ok(back < 10_000, `serving again ${back} ms after the start`);
  // The new app bound the port (it would have exited with EADDRINUSE next to the stale one).
  const release = (JSON.parse(readFileSync(pidFile, 'utf8')) as { release: string }).release;
  await waitUntil('the new app to listen', () => readFileSync(join(p.dataDir, 'logs', 'site', `${release}.log`), 'utf8').includes(`(pid ${appPid()})`));

  assert.equal(await second.stop(), 0);
  assert.equal(await get(port), null, 'a clean stop of autopull stops its app');
});
