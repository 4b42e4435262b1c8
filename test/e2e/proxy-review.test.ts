import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deployFiles as deploy, proxiedProject } from '../helpers/runtime.js';
import { deliverPush } from '../helpers/github.js';
import { RuntimeClient } from '../../src/runtime/client.js';
import { api, waitForJob, waitForJobs, waitForLog } from '../helpers/api.js';
import { APP_START, freePort, get, servesVersion } from '../helpers/app.js';
import { runtimePaths } from '../../src/runtime/runtime.js';

const proxied = (t: { after(fn: () => unknown): void }, probation: string) => proxiedProject(t, { probation, drain: '2s', healthTimeout: '2s' });

/**
 * Release 1 goes live with a short probation (serve then stopped); the config is left with a
 * 60 s probation, long enough to kill something during release 2's.
 */
async function liveThenLongProbation(t: { after(fn: () => unknown): void }): Promise<Awaited<ReturnType<typeof proxied>>> {
  const r = await proxied(t, '60s');
  const long = readFileSync(r.p.configFile, 'utf8');
  writeFileSync(r.p.configFile, long.replace('probation: 60s', 'probation: 100ms'));
  const s0 = await serve(r.p.configFile, t);
  assert.equal((await deploy(s0, r.p, { version: '1' })).state, 'succeeded');
  await servesVersion(r.proxyPort, /^version 1 /);
  assert.equal(await s0.stop(), 0);
  writeFileSync(r.p.configFile, long);
  return r;
}

test('behind the proxy: serve killed in probation, the release unhealthy at the next start: back to the previous release, current and route agree', async (t) => {
  const { p, proxyPort } = await liveThenLongProbation(t);
  const s1 = await serve(p.configFile, t);
  const sha2 = p.pushCommit({ version: '2' });
  const second = (await deliverPush(s1.url, p, sha2)).job;
  await waitForLog(s1.url, p.token, second, /^probation/);
  await servesVersion(proxyPort, /^version 2 /);
  await s1.kill9();
  const release2 = readlinkSync(join(p.deployPath, 'current'));
  // Release 2 turns unhealthy while no serve watches it.
  writeFileSync(join(p.deployPath, release2, 'health'), 'bad');
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace('probation: 60s', 'probation: 300ms'));
  const s2 = await serve(p.configFile, t);
  const jobs = await waitForJobs(s2.url, p.token, (js) => js.some((j) => j.retry_of === second && ['succeeded', 'failed'].includes(j.state)), 60_000);
  const retry = jobs.find((j) => j.retry_of === second)!;
  assert.equal(retry.state, 'failed', retry.reason ?? '');
  const current = readlinkSync(join(p.deployPath, 'current'));
  assert.ok(existsSync(join(p.deployPath, current)), `current points at ${current}, which is gone`);
  assert.notEqual(current, release2, 'current still points at the release that failed its checks');
  const answer = await get(proxyPort);
  assert.match(answer?.body ?? '', /^version 1 /, 'the proxy serves the release that failed its checks');
});

test('supervised on one port: serve killed in probation, the release unhealthy at the next start: back to the previous release', async (t) => {
  const port = await freePort();
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 200ms\n      stop_timeout: 2s\n      probation: 60s\n      health: { url: /healthz, timeout: 2s, interval: 20ms }\n`,
  });
  const long = readFileSync(p.configFile, 'utf8');
  writeFileSync(p.configFile, long.replace('probation: 60s', 'probation: 100ms'));
  const s0 = await serve(p.configFile, t);
  assert.equal((await deploy(s0, p, { version: '1' })).state, 'succeeded');
  assert.equal(await s0.stop(), 0);
  writeFileSync(p.configFile, long);
  const s1 = await serve(p.configFile, t);
  await servesVersion(port, /^version 1 /);
  const second = (await deliverPush(s1.url, p, p.pushCommit({ version: '2' }))).job;
  await waitForLog(s1.url, p.token, second, /^probation/);
  await s1.kill9();
  const release2 = readlinkSync(join(p.deployPath, 'current'));
  writeFileSync(join(p.deployPath, release2, 'health'), 'bad');
  writeFileSync(p.configFile, long.replace('probation: 60s', 'probation: 300ms'));
  const s2 = await serve(p.configFile, t);
  const jobs = await waitForJobs(s2.url, p.token, (js) => js.some((j) => j.retry_of === second && ['succeeded', 'failed'].includes(j.state)), 60_000);
  assert.equal(jobs.find((j) => j.retry_of === second)?.state, 'failed');
  const current = readlinkSync(join(p.deployPath, 'current'));
  assert.ok(existsSync(join(p.deployPath, current)), `current points at ${current}, which is gone`);
  assert.notEqual(current, release2);
  await servesVersion(port, /^version 1 /);
  assert.equal(await s2.stop(), 0);
});

test('behind the proxy: the runtime killed in probation: the job reverts, and no instance is left running unrouted', async (t) => {
  const { p, proxyPort } = await liveThenLongProbation(t);
  const s = await serve(p.configFile, t);
  const second = (await deliverPush(s.url, p, p.pushCommit({ version: '2' }))).job;
  await waitForLog(s.url, p.token, second, /^probation/);
  const { pid } = JSON.parse(readFileSync(runtimePaths(p.dataDir).pid, 'utf8')) as { pid: number };
  process.kill(pid, 'SIGKILL');
  const job = await waitForJob(s.url, p.token, second);
  assert.equal(job.state, 'failed', job.reason ?? '');
  assert.equal(job.failure, 'runtime_lost', job.reason ?? '');
  const { bad } = await api<{ bad: unknown[] }>(s.url, p.token, `/api/repos/site/releases`);
  assert.deepEqual(bad, [], 'a commit is not marked bad because the runtime died under it');
  const c = await RuntimeClient.connect(runtimePaths(p.dataDir).socket);
  t.after(() => c.close());
  const status = await c.request('status', {});
  const target = status.proxies[0]?.target;
  const routed = status.instances.find((i) => i.id === target);
  const current = readlinkSync(join(p.deployPath, 'current'));
  assert.equal(`releases/${routed?.release}`, current, 'the proxy routes to the release current points at');
  await servesVersion(proxyPort, /^version 1 /);
  const others = status.instances.filter((i) => i.id !== target && i.state !== 'draining');
  assert.deepEqual(others.map((i) => `${i.id} ${i.state}`), [], 'instances left running that nothing routes to or retires');
});

test('behind the proxy: a new runtime that fails to start is tried again until one runs, and the current release serves again', async (t) => {
  const { p, proxyPort } = await proxied(t, '100ms');
  const s = await serve(p.configFile, t);
  assert.equal((await deploy(s, p, { version: '1' })).state, 'succeeded');
  await servesVersion(proxyPort, /^version 1 /);
  const paths = runtimePaths(p.dataDir);
  const { pid } = JSON.parse(readFileSync(paths.pid, 'utf8')) as { pid: number };
  process.kill(pid, 'SIGKILL');
  // Until it is removed, a folder where the socket goes makes every start of a runtime fail.
  rmSync(paths.socket, { force: true });
  mkdirSync(join(paths.socket, 'blocker'), { recursive: true });
  await s.waitFor(/could not start a new runtime: .*trying again in \d+ ms/);
  rmSync(paths.socket, { recursive: true, force: true });
  await servesVersion(proxyPort, /^version 1 /, 30_000);
});
