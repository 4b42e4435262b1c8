import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rig, type Rig } from '../../test/helpers/rig.js';
import { loadConfig } from '../config/load.js';
import { Worker } from '../runner/worker.js';
import { enqueueManual } from '../runner/manual.js';
import { silentLogger } from '../lib/log.js';
import { backend } from '../../test/helpers/backend.js';

/**
 * The app under test is "whatever current serves": its health endpoint reads the file
 * `health` of the live release. `ok` answers 200, `bad` 500, and `flaky` answers 200 twice
 * and then 500 (healthy at first, failing in probation).
 */
async function appRig(t: { after(fn: () => unknown): void }, deployYaml: (url: string) => string, restart?: string): Promise<Rig> {
  let deployPath = '';
  const probes = new Map<string, number>();
  const url = await backend(t, (_req, res) => {
    let mode = 'none';
    try {
      mode = readFileSync(join(deployPath, 'current', 'health'), 'utf8').trim();
    } catch {
      // nothing deployed
    }
    const release = (() => {
      try {
        return readFileSync(join(deployPath, 'current', 'v'), 'utf8');
      } catch {
        return '';
      }
    })();
    const n = (probes.get(release) ?? 0) + 1;
    probes.set(release, n);
    res.writeHead(mode === 'ok' || (mode === 'flaky' && n <= 2) ? 200 : 500).end(mode);
  });
  const r = rig(t, { deployYaml: deployYaml(`${url}/healthz`), ...(restart ? { restart } : {}) });
  deployPath = r.p.deployPath;
  return r;
}

const fast = (url: string) => `      health: { url: ${JSON.stringify(url)}, timeout: 1s, interval: 20ms }\n      probation: 300ms\n`;

test('a healthy release passes the gate: healthy, then probation, then live', async (t) => {
  const r = await appRig(t, fast);
  r.p.pushCommit({ v: '1', health: 'ok' });
  const job = await r.deploy();
  assert.equal(job.state, 'succeeded', r.log(job));
  assert.match(r.log(job), /==> wait healthy|wait healthy: GET/);
  assert.match(r.log(job), /health probes passed/);
});

test('a release that never gets healthy is reverted, marked bad, not redeployed by a repeat; a newer commit deploys', async (t) => {
  const r = await appRig(t, fast);
  r.p.pushCommit({ v: '1', health: 'ok' });
  assert.equal((await r.deploy()).state, 'succeeded');
  const good = r.current();
  const badSha = r.p.pushCommit({ v: '2', health: 'bad' });
  const failed = await r.deploy();
  assert.equal(failed.state, 'failed');
  assert.match(failed.reason ?? '', /not healthy within 1s: GET .* answered 500/);
  assert.equal(r.current(), good, 'current is back on the good release');
  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'v'), 'utf8'), '1');
  assert.equal(r.releases().length, 1, 'the failed release is removed');
  assert.ok(r.store.getBad('site', badSha));

  const repeat = await r.deploy();
  assert.equal(repeat.state, 'skipped');
  assert.match(repeat.reason ?? '', /marked bad/);

  r.p.pushCommit({ v: '3', health: 'ok' });
  const newer = await r.deploy();
  assert.equal(newer.state, 'succeeded', r.log(newer));
  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'v'), 'utf8'), '3');
});

test('a crash in probation switches back automatically; a forced deploy of the bad commit still goes through the gate', async (t) => {
  const r = await appRig(t, fast, 'true');
  r.p.pushCommit({ v: '1', health: 'ok' });
  await r.deploy();
  const good = r.current();
  const flakySha = r.p.pushCommit({ v: '2', health: 'flaky' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /failed its health check in probation/);
  assert.equal(r.current(), good);
  assert.match(r.log(job), /is healthy again, \d+ms after the revert began/);
  assert.ok(r.store.getBad('site', flakySha));
  // Fix the app without a new commit on the branch: force the same commit by id.
  const forced = await r.deploy(flakySha, true);
  assert.equal(forced.state, 'failed', 'still flaky: the gate holds even when forced');
});

test('rollback switches to the previous good release through the gate and marks the abandoned commit bad', async (t) => {
  const r = await appRig(t, fast);
  r.p.pushCommit({ v: '1', health: 'ok' });
  const first = await r.deploy();
  const v2 = r.p.pushCommit({ v: '2', health: 'ok' });
  await r.deploy();
  const back = await r.rollback();
  assert.equal(back.state, 'succeeded', r.log(back));
  assert.equal(back.kind, 'rollback');
  assert.equal(r.current(), `releases/${first.release}`);
  assert.ok(r.store.getBad('site', v2), 'a poll or a repeated delivery will not undo the rollback');
  assert.equal((await r.deploy()).state, 'skipped');

  const named = r.releases().find((id) => `releases/${id}` !== r.current()) as string;
  const to = await r.rollback(named);
  assert.equal(to.state, 'succeeded', r.log(to));
  assert.equal(r.current(), `releases/${named}`);

  assert.equal(readFileSync(join(r.p.deployPath, 'current', 'v'), 'utf8'), '2');
  await r.rollback();
  assert.ok(r.store.getBad('site', v2));
  const again = await r.deploy(v2, true);
  assert.equal(again.state, 'succeeded', r.log(again));
  assert.equal(r.store.getBad('site', v2), null, 'a forced deploy that passes the gate clears the mark');
});

test('rollback with nothing to go back to fails with the reason and changes nothing', async (t) => {
  const r = await appRig(t, fast);
  r.p.pushCommit({ v: '1', health: 'ok' });
  await r.deploy();
  const before = r.current();
  const job = await r.rollback();
  assert.equal(job.state, 'failed');
  assert.match(job.reason ?? '', /no earlier good release/);
  const missing = await r.rollback('20200101T000000-abcdef1');
  assert.match(missing.reason ?? '', /does not exist/);
  assert.equal(r.current(), before);
});

test('keep N with several failed releases keeps the last good one', async (t) => {
  const r = await appRig(t, fast);
  r.p.pushCommit({ v: '1', health: 'ok' });
  await r.deploy();
  const good = r.current();
  for (let i = 2; i <= 5; i++) {
    r.p.pushCommit({ v: String(i), health: 'bad' });
    assert.equal((await r.deploy()).state, 'failed');
  }
  assert.equal(r.current(), good);
  assert.deepEqual(r.releases().map((id) => `releases/${id}`), [good]);
});

test('killed inside the gate: the next job runs the checks again for the release current points at', async (t) => {
  const r = await appRig(t, fast, 'echo restarted >> ../../restarts.log');
  r.p.pushCommit({ v: '1', health: 'ok' });
  const first = await r.deploy();
  r.p.pushCommit({ v: '2', health: 'ok' });
  const second = await r.deploy();
  // As if autopull died after switching to release 2, before its restart and probation ended.
  r.store.setReleaseState('site', second.release as string, 'switching');
  const again = await r.deploy();
  assert.equal(again.state, 'succeeded', r.log(again));
  assert.match(r.log(again), /went live without finishing its checks/);
  assert.equal(r.store.getRelease('site', second.release as string)?.state, 'live');
  assert.equal(readFileSync(join(r.p.deployPath, 'restarts.log'), 'utf8').trim().split('\n').length, 3, 'the restart ran again');

  // The same, but the release is unhealthy now: back to release 1, commit marked bad.
  r.store.setReleaseState('site', second.release as string, 'switching');
  writeFileSync(join(r.p.deployPath, 'releases', second.release as string, 'health'), 'bad');
  const reverted = await r.deploy();
  assert.equal(reverted.state, 'failed');
  assert.equal(r.current(), `releases/${first.release}`);
  assert.ok(r.store.getBad('site', second.target_sha as string));
});

test('stopping autopull during probation is no verdict: the release stays current and the next start finishes its checks', async (t) => {
  const r = await appRig(t, (url) => `      health: { url: ${JSON.stringify(url)}, timeout: 1s, interval: 20ms }\n      probation: 30s\n`);
  r.p.pushCommit({ v: '1', health: 'ok' });
  const worker = new Worker(r.config, r.store, silentLogger());
  const { id } = enqueueManual(r.config, r.store, 'site', undefined, false);
  const inProbation = new Promise<void>((resolve) => {
    const onLog = (l: { job_id: number; line: string }) => {
      if (l.job_id === id && l.line.startsWith('probation')) {
        r.store.off('log', onLog);
        resolve();
      }
    };
    r.store.on('log', onLog);
  });
  worker.kick('site');
  await inProbation;
  await worker.stop(0);
  const job = r.store.getJob(id);
  assert.equal(job?.state, 'interrupted');
  assert.equal(r.current(), `releases/${job?.release}`, 'not reverted');
  assert.equal(r.store.getRelease('site', job?.release as string)?.state, 'switching');
  const shortProbation = loadConfigWith(r, 'probation: 30s', 'probation: 100ms');
  const next = new Worker(shortProbation, r.store, silentLogger());
  next.recover();
  await next.idle();
  const [retry] = r.store.listJobs({ repo: 'site', limit: 1 });
  assert.equal(retry?.retry_of, id);
  assert.equal(retry?.state, 'succeeded', r.log(retry as never));
  assert.equal(r.store.getRelease('site', job?.release as string)?.state, 'live');
});

function loadConfigWith(r: Rig, from: string, to: string) {
  writeFileSync(r.p.configFile, readFileSync(r.p.configFile, 'utf8').replace(from, to));
  return loadConfig(r.p.configFile);
}
