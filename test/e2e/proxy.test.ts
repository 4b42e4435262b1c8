import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../helpers/cli.js';
import { deployFiles as deploy, proxiedProject } from '../helpers/runtime.js';
import { get, servesVersion } from '../helpers/app.js';
import { steadyLoad } from '../helpers/load.js';
import { runtimePaths } from '../../src/runtime/runtime.js';
import { RuntimeClient } from '../../src/runtime/client.js';
import { groupHasLive } from '../../src/lib/process-group.js';

const proxied = (t: { after(fn: () => unknown): void }) => proxiedProject(t, { probation: '300ms', drain: '5s', healthTimeout: '10s' });

test('behind the proxy: deploys under steady load fail no request, and an unhealthy release never answers one', async (t) => {
  const { p, proxyPort } = await proxied(t);
  const s = await serve(p.configFile, t);
  const first = await deploy(s, p, { version: '1' });
  assert.equal(first.state, 'succeeded', first.reason ?? '');
  await servesVersion(proxyPort, /^version 1 /);

  const load = steadyLoad(`http://127.0.0.1:${proxyPort}/`);
  const second = await deploy(s, p, { version: '2', 'boot-delay': '300' });
  assert.equal(second.state, 'succeeded', second.reason ?? '');
  const bad = await deploy(s, p, { version: '3', health: 'bad' });
  assert.equal(bad.state, 'failed');
  assert.equal(bad.failure, 'unhealthy');
  const fourth = await deploy(s, p, { version: '4', health: 'ok' });
  assert.equal(fourth.state, 'succeeded', fourth.reason ?? '');
  await servesVersion(proxyPort, /^version 4 /);
  const seen = await load.stop();

  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);
  assert.equal(seen.versions.get('version 3') ?? 0, 0, 'the unhealthy release answered user requests');
  assert.ok((seen.versions.get('version 2') ?? 0) > 0, 'the load saw release 2 serve');
});

test('behind the proxy with no health check: a release that listens late gets traffic only once it accepts connections', async (t) => {
  const { p, proxyPort } = await proxiedProject(t, { probation: '0s', drain: '5s', healthTimeout: null });
  const s = await serve(p.configFile, t);
  assert.equal((await deploy(s, p, { version: '1' })).state, 'succeeded');
  await servesVersion(proxyPort, /^version 1 /);

  const load = steadyLoad(`http://127.0.0.1:${proxyPort}/`);
  // Up at once, listening only 800 ms later: well past min_uptime (200 ms).
  const next = await deploy(s, p, { version: '2', 'boot-delay': '800' });
  assert.equal(next.state, 'succeeded', next.reason ?? '');
  await servesVersion(proxyPort, /^version 2 /);
  const seen = await load.stop();
  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);
  assert.match(s.output(), /accepts connections on PORT \d+/);
});

test('behind the proxy: a request in flight across a switch completes on the old release', async (t) => {
  const { p, proxyPort } = await proxied(t);
  const s = await serve(p.configFile, t);
  assert.equal((await deploy(s, p, { version: '1' })).state, 'succeeded');
  await servesVersion(proxyPort, /^version 1 /);
  const slow = get(proxyPort, '/slow?ms=1500');
  const next = await deploy(s, p, { version: '2' });
  assert.equal(next.state, 'succeeded', next.reason ?? '');
  const answer = await slow;
  assert.equal(answer?.status, 200);
  assert.match(answer?.body ?? '', /^version 1 /);
  await servesVersion(proxyPort, /^version 2 /);
});

test('behind the proxy: kill -9 of serve under load fails no request; the next serve re-attaches to the running app', async (t) => {
  const { p, proxyPort } = await proxied(t);
  const s1 = await serve(p.configFile, t);
  assert.equal((await deploy(s1, p, { version: '1' })).state, 'succeeded');
  await servesVersion(proxyPort, /^version 1 /);
  const load = steadyLoad(`http://127.0.0.1:${proxyPort}/`);
  await s1.kill9();
  const s2 = await serve(p.configFile, t);
  await s2.waitFor(/re-attached/);
  const next = await deploy(s2, p, { version: '2' });
  assert.equal(next.state, 'succeeded', next.reason ?? '');
  await servesVersion(proxyPort, /^version 2 /);
  assert.equal(await s2.stop(), 0);
  // serve stopped: the runtime serves on.
  await servesVersion(proxyPort, /^version 2 /);
  const seen = await load.stop();
  assert.deepEqual(seen.failures.slice(0, 5), [], `${seen.failures.length} of ${seen.requests} requests failed`);
});

test('behind the proxy: a crash in probation swaps back to the old release', async (t) => {
  const { p, proxyPort } = await proxied(t);
  const s = await serve(p.configFile, t);
  assert.equal((await deploy(s, p, { version: '1' })).state, 'succeeded');
  const crashing = await deploy(s, p, { version: '2', 'crash-after': '100' });
  assert.equal(crashing.state, 'failed');
  assert.match(crashing.failure ?? '', /probation_failed|unhealthy/);
  await servesVersion(proxyPort, /^version 1 /);
});

test('behind the proxy: when the runtime dies, serve starts a new one and the current release in it', async (t) => {
  const { p, proxyPort } = await proxied(t);
  const s = await serve(p.configFile, t);
  assert.equal((await deploy(s, p, { version: '1' })).state, 'succeeded');
  await servesVersion(proxyPort, /^version 1 /);
  const pidFile = runtimePaths(join(p.dir, 'data')).pid;
  const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
  const apps = JSON.parse(readFileSync(runtimePaths(join(p.dir, 'data')).processes, 'utf8')) as { pid: number }[];
  assert.equal(apps.length, 1);
  const idsIn = async () => {
    const c = await RuntimeClient.connect(runtimePaths(join(p.dir, 'data')).socket);
    try {
      return (await c.request('status', {})).instances.map((i) => i.id);
    } finally {
      c.close();
    }
  };
  const before = await idsIn();
  process.kill(pid, 'SIGKILL');
  await s.waitFor(/the runtime is gone/);
  await servesVersion(proxyPort, /^version 1 /);
  const again = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
  assert.notEqual(again.pid, pid);
  const after = await idsIn();
  assert.equal(after.length, 1);
  assert.deepEqual(after.filter((id) => before.includes(id)), [], 'the new runtime reused an instance id serve may still hold');
  assert.equal(groupHasLive(apps[0]!.pid), false, 'the dead runtime\'s app was stopped by the new one');
});
