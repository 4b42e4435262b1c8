import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';
import { APP, freePort, get, servesVersion } from '../helpers/app.js';

// The time from SIGTERM to exit is measured by bench/process.ts (docs/BENCHMARKS-process.md).
test('SIGTERM to an idle autopull serve stops its supervised app, logs that it stopped and exits 0', async (t) => {
  const port = await freePort();
  // As a user writes it, without exec: autopull execs a simple command itself.
  const start = `${JSON.stringify(process.execPath)} ${JSON.stringify(APP)}`;
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(start)}\n      port: ${port}\n      probation: 0s\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n`,
  });
  const server = await serve(p.configFile, t);
  const job = await waitForJob(server.url, p.token, (await deliverPush(server.url, p, p.pushCommit({ version: '1' }))).job);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  await servesVersion(port, /^version 1 /);
  const pidFile = join(p.dataDir, 'apps', 'site.json');
  const appPid = (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
  t.after(() => {
    try {
      process.kill(-appPid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });

  assert.equal(await server.stop(), 0);
  const lines = server.output().split('\n');
  assert.ok(lines.some((l) => /"msg":"stopping"/.test(l) && /"signal":"SIGTERM"/.test(l)), server.output());
  assert.ok(lines.some((l) => /"msg":"stopped"/.test(l)), server.output());
  assert.ok(!lines.some((l) => /still running .* after it stopped/.test(l)), 'nothing kept the stopped server alive');
  assert.equal(await get(port), null, 'the app stopped with autopull');
  assert.ok(!existsSync(pidFile), 'the app pid file is removed');
});
