import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rig, type Rig } from '../../test/helpers/rig.js';
import { APP_START, freePort, get, servesVersion } from '../../test/helpers/app.js';
import { Worker } from '../runner/worker.js';
import { enqueueManual } from '../runner/manual.js';
import { silentLogger } from '../lib/log.js';
import { appLogFile } from './supervisor.js';

/**
 * Supervised apps (deploy.start) through the gate, with the fixture app: each commit's files
 * (`version`, `health`, `crash-after`) switch its behaviour, and its port is the truth.
 */
async function appRig(t: { after(fn: () => unknown): void }, opts: { health?: boolean; probation?: string } = {}): Promise<Rig & { port: number }> {
  const port = await freePort();
  const deployYaml =
    `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 300ms\n      stop_timeout: 2s\n      probation: ${opts.probation ?? '600ms'}\n` +
    (opts.health === false ? '' : '      health: { url: /healthz, timeout: 5s, interval: 20ms }\n');
  return { ...rig(t, { deployYaml }), port };
}

test('a supervised app is started from its release with PORT, checked on its port, and logs to its release log', async (t) => {
  const r = await appRig(t);
  r.p.pushCommit({ version: '1' });
  const first = await r.deploy();
  assert.equal(first.state, 'succeeded', r.log(first));
  await servesVersion(r.port, /^version 1 release .*releases\/\d{8}T\d{6}-[0-9a-f]{7}$/);
  r.p.pushCommit({ version: '2' });
  const second = await r.deploy();
  assert.equal(second.state, 'succeeded', r.log(second));
  assert.match((await get(r.port))?.body ?? '', /^version 2 /);
  assert.match(r.log(second), /start: .* \(releases\/.*, PORT \d+\)[\s\S]*wait healthy[\s\S]*switch current[\s\S]*health probes passed/);
  assert.equal(r.current(), `releases/${second.release}`);
  const log = appLogFile(r.config.data_dir, 'site', second.release as string);
  assert.match(readFileSync(log, 'utf8'), /app version 2 listening on/);
  const pid = JSON.parse(readFileSync(join(r.config.data_dir, 'apps', 'site.json'), 'utf8')) as { release: string };
  assert.equal(pid.release, second.release);
});

test('a supervised release that never gets healthy: the old app serves again, current untouched, job failed, commit bad', async (t) => {
  const r = await appRig(t);
  r.p.pushCommit({ version: '1' });
  await r.deploy();
  const good = r.current();
  const badSha = r.p.pushCommit({ version: '2', health: 'bad' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /not healthy within 5s: GET .* answered 500/);
  assert.equal(r.current(), good);
  assert.match((await get(r.port))?.body ?? '', /^version 1 /, 'the old app serves on the port');
  assert.ok(r.store.getBad('site', badSha));
  assert.match(r.log(job), /is healthy again, \d+m?s after the revert began/);
});

test('a crash in probation reverts automatically: current back, the old app serving, the commit marked bad', async (t) => {
  const r = await appRig(t, { probation: '3s' });
  r.p.pushCommit({ version: '1' });
  await r.deploy();
  const good = r.current();
  const crashSha = r.p.pushCommit({ version: '2', 'crash-after': '400' });
  const started = Date.now();
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  // The exit event or a refused probe, whichever comes first: both fail probation at once.
  assert.match(job.reason ?? '', /the app exited in probation: exit 1|failed its health check in probation/);
  assert.ok(Date.now() - started < 3000 + 2000, 'the crash fails probation at once, not at its end');
  assert.equal(r.current(), good);
  assert.match((await get(r.port))?.body ?? '', /^version 1 /);
  assert.ok(r.store.getBad('site', crashSha));
  const ms = /is healthy again, (\d+(?:ms|s)) after the revert began/.exec(r.log(job));
  assert.ok(ms, r.log(job));
  console.log(`# revert: old release healthy again ${ms[1]} after the crash in probation`);
});

test('with no health check, a supervised app must stay up for min_uptime', async (t) => {
  const r = await appRig(t, { health: false, probation: '0s' });
  r.p.pushCommit({ version: '1' });
  assert.equal((await r.deploy()).state, 'succeeded');
  r.p.pushCommit({ version: '2', 'crash-after': '0' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /the app exited before it was healthy/);
  await servesVersion(r.port, /^version 1 /);
});

test('rollback of a supervised app goes through the same gate', async (t) => {
  const r = await appRig(t, { probation: '0s' });
  r.p.pushCommit({ version: '1' });
  const first = await r.deploy();
  r.p.pushCommit({ version: '2' });
  await r.deploy();
  const back = await r.rollback();
  assert.equal(back.state, 'succeeded', r.log(back));
  assert.equal(r.current(), `releases/${first.release}`);
  assert.match((await get(r.port))?.body ?? '', /^version 1 /);
});

test('a job of a supervised repo without the server (in-process) is refused with the reason', async (t) => {
  const r = await appRig(t);
  r.p.pushCommit({ version: '1' });
  const worker = new Worker(r.config, r.store, silentLogger());
  const { id } = enqueueManual(r.config, r.store, 'site', undefined, false);
  worker.kick('site');
  await worker.idle();
  const job = r.store.getJob(id);
  assert.equal(job?.state, 'failed');
  assert.match(job?.reason ?? '', /repo site is supervised \(deploy\.start\).*autopull serve/);
  assert.ok(!existsSync(join(r.p.deployPath, 'releases')), 'nothing was built');
});
