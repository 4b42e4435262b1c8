import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { APP, freePort, get, servesVersion, waitUntil } from '../../test/helpers/app.js';
import { liveGroupMembers } from '../lib/process-group.js';
import { appLogFile, Supervisor } from './supervisor.js';

/** The fixture app as a user writes it: no `exec`. */
const NODE_APP = `${JSON.stringify(process.execPath)} ${JSON.stringify(APP)}`;
const RELEASE = '20260101T000000-aaaaaaa';

function isLive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function started(t: { after(fn: () => unknown): void }, command: string) {
  const root = tempDir(t);
  const dataDir = join(root, 'data');
  const dir = join(root, RELEASE);
  mkdirSync(dir);
  writeFileSync(join(dir, 'version'), '1');
  const port = await freePort();
  const warnings: string[] = [];
  const sup = new Supervisor({ repo: 'site', command, port, dataDir, minUptimeMs: 100, maxRestarts: 0, log: (level, m) => level === 'warn' && warnings.push(m) });
  t.after(() => sup.stop(200));
  sup.start(dir, process.env);
  await servesVersion(port, /version 1/);
  const log = appLogFile(dataDir, 'site', RELEASE);
  const appPid = Number(await waitUntil('the app to log its pid', () => /listening on \d+ \(pid (\d+)\)/.exec(readFileSync(log, 'utf8'))?.[1]));
  return { sup, port, appPid, warnings };
}

test('a simple start line runs as the app itself: the pid file holds the pid the app reports; a stop leaves nothing of its group', async (t) => {
  const { sup, port, appPid } = await started(t, NODE_APP);
  const pgid = sup.pid as number;
  assert.equal(appPid, pgid, 'the app replaced sh');
  assert.equal((JSON.parse(readFileSync(sup.pidFile, 'utf8')) as { pid: number }).pid, appPid);
  assert.deepEqual(liveGroupMembers(pgid), [appPid]);
  await sup.stop(5000);
  assert.equal(sup.state, 'stopped');
  assert.deepEqual(liveGroupMembers(pgid), []);
  assert.equal(await get(port), null);
});

test('a compound start line runs under sh as written; a stop takes the app with it', async (t) => {
  const { sup, port, appPid } = await started(t, `cd . && ${NODE_APP}`);
  const pgid = sup.pid as number;
  assert.notEqual(appPid, pgid, 'sh is the main process');
  assert.deepEqual(liveGroupMembers(pgid)?.sort(), [pgid, appPid].sort());
  await sup.stop(5000);
  assert.deepEqual(liveGroupMembers(pgid), [], 'the app is gone (a zombie left to init may remain: it holds nothing)');
  assert.equal(await get(port), null);
});

test('a process of the group that outlives the app is killed when the rest of stop_timeout is over', async (t) => {
  // A helper that ignores SIGTERM, in the app's group; the app itself (exec'd by sh) exits on it.
  const { sup, port, appPid, warnings } = await started(t, `(trap '' TERM; exec sleep 1000) & exec ${NODE_APP}`);
  const pgid = sup.pid as number;
  assert.equal(appPid, pgid);
  const helper = (liveGroupMembers(pgid) ?? []).find((p) => p !== pgid);
  assert.ok(helper, 'the helper runs in the group');
  await sup.stop(300);
  assert.deepEqual(liveGroupMembers(pgid), []);
  assert.ok(!isLive(helper), 'the helper is gone (or a zombie waiting for init)');
  assert.match(warnings.join('\n'), /1 process\(es\) of its group outlived it .*SIGKILL/);
  assert.doesNotMatch(warnings.join('\n'), /ignored SIGTERM/, 'the app itself stopped on SIGTERM');
  assert.equal(await get(port), null);
});
