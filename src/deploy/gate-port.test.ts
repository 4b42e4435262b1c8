import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rig, type Rig } from '../../test/helpers/rig.js';
import { APP_START, freePort, servesVersion, waitUntil } from '../../test/helpers/app.js';

/**
 * A process autopull did not start, listening on 127.0.0.1:port and answering 200 to
 * everything, /healthz included: a health check that reached it would pass. It prints one
 * line per request it gets.
 */
async function foreignListener(t: { after(fn: () => unknown): void }, port: number) {
  const code = `require('http').createServer((q, s) => { console.log('request ' + q.url); s.end('foreign'); }).listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(proc, 'exit');
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  t.after(stop);
  await waitUntil('the foreign listener', () => out.includes('listening'));
  return { pid: proc.pid as number, requests: () => out.split('\n').filter((l) => l.startsWith('request')), stop };
}

async function appRig(t: { after(fn: () => unknown): void }, healthTimeout = '5s'): Promise<Rig & { port: number }> {
  const port = await freePort();
  // min_uptime 1h and no restarts: an app killed here stays down (crashed) and frees the port.
  const deployYaml = `      start: ${JSON.stringify(APP_START)}\n      port: ${port}\n      min_uptime: 1h\n      max_restarts: 0\n      stop_timeout: 2s\n      probation: 0s\n      health: { url: /healthz, timeout: ${healthTimeout}, interval: 20ms }\n`;
  return { ...rig(t, { deployYaml }), port };
}

test('a foreign listener on the port: the first deploy fails with port_in_use before the app starts, its health is never asked, the commit is not bad', async (t) => {
  const r = await appRig(t);
  const foreign = await foreignListener(t, r.port);
  const sha = r.p.pushCommit({ version: '1' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.equal(job.failure, 'port_in_use');
  assert.match(job.reason ?? '', new RegExp(`port ${r.port} \\(deploy\\.port\\) is in use by pid ${foreign.pid} \\(node\\): the new app was not started`));
  assert.deepEqual(foreign.requests(), [], 'no health probe reached the foreign process');
  assert.ok(!existsSync(join(r.config.data_dir, 'apps', 'site.json')), 'the app was never started');
  assert.doesNotMatch(r.log(job), /wait healthy/);
  assert.equal(r.store.getBad('site', sha), null, 'not the commit\'s fault');
  assert.equal(r.current(), null);

  // Once the port is free, the same commit deploys without --force.
  await foreign.stop();
  const again = await r.deploy();
  assert.equal(again.state, 'succeeded', r.log(again));
  await servesVersion(r.port, /^version 1 /);
});

test('a foreign listener on the port of a crashed app: the next deploy fails with port_in_use, the live release keeps its state', async (t) => {
  const r = await appRig(t);
  r.p.pushCommit({ version: '1' });
  const first = await r.deploy();
  assert.equal(first.state, 'succeeded', r.log(first));
  await servesVersion(r.port, /^version 1 /);
  const sup = r.apps.get(r.config.repos.get('site' as never)!);
  const appPid = (JSON.parse(readFileSync(sup.pidFile, 'utf8')) as { pid: number }).pid;
  process.kill(appPid, 'SIGKILL');
  await waitUntil('the app to be given up', () => sup.state === 'crashed');
  const foreign = await foreignListener(t, r.port);

  const sha = r.p.pushCommit({ version: '2' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.equal(job.failure, 'port_in_use');
  assert.match(job.reason ?? '', new RegExp(`port ${r.port} .*in use by pid ${foreign.pid}`));
  assert.deepEqual(foreign.requests(), [], 'no health probe reached the foreign process');
  assert.equal(r.store.getBad('site', sha), null);
  assert.equal(r.current(), `releases/${first.release}`);
  assert.equal(r.store.getRelease('site', first.release as string)?.state, 'live');
  assert.equal(r.store.getRelease('site', job.release as string)?.state ?? 'failed', 'failed');
  assert.match(r.log(job), /the app of releases\/\S+ is not started again/, 'the old app is not started against the foreign process either');
});

test('a foreign listener that takes the port while the new app boots answers the health check: the gate still fails with port_in_use', async (t) => {
  const r = await appRig(t, '20s');
  // The app waits 10 s before it listens: the foreign process gets the port first.
  const sha = r.p.pushCommit({ version: '1', 'boot-delay': '10000' });
  const pidFile = join(r.config.data_dir, 'apps', 'site.json');
  const deployed = r.deploy();
  await waitUntil('the new app to start', () => existsSync(pidFile));
  const foreign = await foreignListener(t, r.port);
  const job = await deployed;
  assert.equal(job.state, 'failed');
  assert.equal(job.failure, 'port_in_use', job.reason ?? '');
  assert.match(job.reason ?? '', new RegExp(`port ${r.port} .*in use by pid ${foreign.pid} \\(node\\): the health check may have been answered by that process`));
  assert.ok(foreign.requests().includes('request /healthz'), 'the probe did reach it');
  assert.equal(r.store.getBad('site', sha), null);
  assert.equal(r.current(), null, 'never switched');
});
