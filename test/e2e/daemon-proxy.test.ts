import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { deliverPush } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';
import { APP_START, freePort, get, servesVersion, waitUntil } from '../helpers/app.js';
import { steadyLoad } from '../helpers/load.js';
import { alive, sizeOf, startDaemon, waitForLine } from '../helpers/daemon.js';
import { runningRuntime } from '../../src/runtime/main.js';
import { runtimePaths } from '../../src/runtime/runtime.js';

function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

test('behind the proxy: a reload under load fails no request and moves the proxy to a new address; stop leaves the app serving, stop --all stops it', async (t) => {
  const [port1, port2] = [await freePort(), await freePort()];
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      proxy: 127.0.0.1:${port1}\n      min_uptime: 200ms\n      stop_timeout: 2s\n      probation: 0s\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n`,
  });
  const d = await startDaemon(p.configFile, t);
  const job = await waitForJob(d.url, p.token, (await deliverPush(d.url, p, p.pushCommit({ version: '1' }))).job);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  await servesVersion(port1, /^version 1 /);

  // A reload that touches the repo (its keep) while requests flow: none fails.
  const base = readFileSync(p.configFile, 'utf8');
  const load = steadyLoad(`http://127.0.0.1:${port1}/`);
  let from = sizeOf(d.logFile);
  replaceFile(p.configFile, base.replace('keep: 5', 'keep: 4'));
  await waitForLine(d.logFile, /config reloaded \(file change\)/, { from });
  await waitUntil('more requests after the reload', () => load.result.requests > 50);
  const seen = await load.stop();
  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);

  from = sizeOf(d.logFile);
  replaceFile(p.configFile, base.replace(`proxy: 127.0.0.1:${port1}`, `proxy: 127.0.0.1:${port2}`));
  await waitForLine(d.logFile, new RegExp(`the proxy now listens on 127\\.0\\.0\\.1:${port2}`), { from });
  await servesVersion(port2, /^version 1 /);
  await waitUntil('the old address to close', async () => (await get(port1)) === null);

  const stopped = await d.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  await servesVersion(port2, /^version 1 /);
  const runtime = runningRuntime(runtimePaths(join(p.dir, 'data')).pid);
  assert.ok(runtime !== null, 'the runtime outlives serve');

  const all = await d.stop(['--all']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /not running/);
  assert.match(all.stdout, new RegExp(`the runtime \\(pid ${runtime}\\) stopped`));
  assert.ok(!alive(runtime));
  assert.equal(await get(port2), null, 'the app behind the proxy stopped with it');
});
