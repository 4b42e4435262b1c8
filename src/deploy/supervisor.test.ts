import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { APP_START, freePort, get, servesVersion, waitUntil } from '../../test/helpers/app.js';
import { APP_LOG_MAX_BYTES, appLogCaps } from '../lib/log-rotate.js';
import { appLogFile, killStale, Supervisor, type AppExit, type SupervisorOptions } from './supervisor.js';

function release(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, f), c);
  return dir;
}

async function setup(t: { after(fn: () => unknown): void }, o: Partial<SupervisorOptions> = {}) {
  const root = tempDir(t);
  const port = await freePort();
  const sup = new Supervisor({ repo: 'site', command: APP_START, port, dataDir: join(root, 'data'), minUptimeMs: 300, maxRestarts: 3, minBackoffMs: 20, maxBackoffMs: 200, ...o });
  t.after(() => sup.stop(200));
  return { root, port, sup, dataDir: join(root, 'data') };
}

test('a supervised app runs from its release with PORT, logs to its release log and has a pid file', async (t) => {
  const { root, port, sup, dataDir } = await setup(t);
  const dir = release(root, '20260101T000000-aaaaaaa', { version: '1' });
  sup.start(dir, { ...process.env, AUTOPULL_REPO: 'site', AUTOPULL_RELEASE_DIR: dir });
  await servesVersion(port, /version 1/);
  assert.equal(sup.state, 'running');
  const pidFile = JSON.parse(readFileSync(sup.pidFile, 'utf8')) as { pid: number; release: string; port: number };
  assert.equal(pidFile.pid, sup.pid);
  assert.equal(pidFile.release, '20260101T000000-aaaaaaa');
  assert.equal(pidFile.port, port);
  const log = appLogFile(dataDir, 'site', '20260101T000000-aaaaaaa');
  await waitUntil('the log line', () => existsSync(log) && /app version 1 listening on/.test(readFileSync(log, 'utf8')));
  await sup.stop(2000);
  assert.equal(sup.state, 'stopped');
  assert.equal(await get(port), null, 'nothing serves after stop');
  assert.ok(!existsSync(sup.pidFile), 'stop removes the pid file');
});

test('a crashing app is restarted with backoff and given up after max_restarts (state crashed)', async (t) => {
  const { root, sup } = await setup(t, { minUptimeMs: 3000, minBackoffMs: 50, maxBackoffMs: 150 });
  const dir = release(root, '20260101T000000-bbbbbbb', { version: '1', 'crash-after': '10' });
  const exits: AppExit[] = [];
  const spawns: number[] = [];
  const exitTimes: number[] = [];
  sup.on('exit', (e: AppExit) => {
    exits.push(e);
    exitTimes.push(Date.now());
  });
  sup.on('spawn', () => spawns.push(Date.now()));
  const crashed = once(sup, 'crashed');
  sup.start(dir, process.env);
  await crashed;
  assert.equal(sup.state, 'crashed');
  assert.equal(exits.length, 4, 'the first run and 3 restarts');
  assert.ok(exits.every((e) => e.crash && e.code === 1));
  assert.equal(spawns.length, 4);
  // The wait from each exit to the next start: at least 50, 100, then 150 ms (doubling,
  // capped). The upper bound only catches a wait gone wrong (seconds): a loaded machine
  // (CI's 2 cores) can take a few hundred ms to spawn.
  const waits = spawns.slice(1).map((s, i) => s - (exitTimes[i] as number));
  [50, 100, 150].forEach((min, i) => assert.ok((waits[i] as number) >= min - 5 && (waits[i] as number) < min + 1500, `waits: ${waits.join(', ')}`));
  assert.ok(!existsSync(sup.pidFile), 'a crashed app has no pid file');
});

test('an app that exits after min_uptime is restarted and the crash count starts again', async (t) => {
  const { root, port, sup } = await setup(t, { minUptimeMs: 50, maxRestarts: 0 });
  const dir = release(root, '20260101T000000-ccccccc', { version: '1', 'crash-after': '300' });
  const exits: AppExit[] = [];
  sup.on('exit', (e: AppExit) => exits.push(e));
  sup.start(dir, process.env);
  await waitUntil('two exits', () => exits.length >= 2);
  assert.ok(exits.every((e) => !e.crash));
  assert.notEqual(sup.state, 'crashed');
  await servesVersion(port, /version 1/);
});

test('stop sends SIGTERM, then SIGKILL after the grace period to an app that ignores SIGTERM', async (t) => {
  const { root, port, sup, dataDir } = await setup(t);
  const dir = release(root, '20260101T000000-ddddddd', { version: '1', 'ignore-term': '' });
  sup.start(dir, process.env);
  await servesVersion(port, /version 1/);
  const started = Date.now();
  await sup.stop(300);
  const took = Date.now() - started;
  assert.ok(took >= 300, `waited the grace period (${took} ms)`);
  assert.equal(await get(port), null);
  await waitUntil('the log line', () => /SIGTERM ignored/.test(readFileSync(appLogFile(dataDir, 'site', '20260101T000000-ddddddd'), 'utf8')));
});

test('killStale kills the group a dead autopull left running, and only ours', async (t) => {
  const { root, port, sup, dataDir } = await setup(t);
  const dir = release(root, '20260101T000000-eeeeeee', { version: '1' });
  sup.start(dir, { ...process.env, AUTOPULL_REPO: 'site' });
  await servesVersion(port, /version 1/);
  const pid = sup.pid;
  // As after a kill -9 of autopull: the pid file and the running group are all that is left.
  (sup as unknown as { child: null }).child = null;
  assert.equal(await killStale(dataDir, 'other', 500), null, 'no pid file for another repo');
  assert.equal(await killStale(dataDir, 'site', 500), pid);
  assert.equal(await get(port), null, 'the port is free again');
  assert.equal(await killStale(dataDir, 'site', 500), null, 'the pid file is gone');
});

test('a supervised app that prints without end cannot fill the disk: its log is cut past 10 MiB while it runs, and no longer watched once it stops', async (t) => {
  const { root, sup, dataDir } = await setup(t, { command: `exec ${JSON.stringify(process.execPath)} -e "process.stdout.write('x'.repeat(11 * 1024 * 1024) + '\\\\n'); setInterval(() => console.log('still here'), 20)"` });
  const dir = release(root, '20260101T000000-ddddddd', {});
  sup.start(dir, process.env);
  const log = appLogFile(dataDir, 'site', '20260101T000000-ddddddd');
  // The 11 MiB line and the first 'still here' after it: the big write is over.
  await waitUntil('11 MiB of output', () => existsSync(log) && statSync(log).size >= 11 * 1024 * 1024 + 1 + 'still here\n'.length);
  assert.deepEqual(appLogCaps.check(), [log], "the running app's log is watched and cut");
  assert.ok(statSync(`${log}.1`).size > APP_LOG_MAX_BYTES, 'what it had printed is in .1');
  await waitUntil('the app to go on printing at the start of the log', () => /^still here\n/.test(readFileSync(log, 'utf8')));
  await sup.stop(2000);
  writeFileSync(log, 'x'.repeat(APP_LOG_MAX_BYTES + 1));
  assert.deepEqual(appLogCaps.check(), [], "a stopped app's log is left alone");
});
