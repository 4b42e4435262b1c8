import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isRunning, isSameProcessAlive, isZombie, processStartTime } from '../lib/proc.js';
import { runningRuntime } from './main.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { takeStartLock } from './start-lock.js';

test('start lock: a live holder keeps it (the error names its pid); once it is gone the lock is taken, and released', async (t) => {
  const file = join(tempDir(t), 'runtime.lock');
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  await once(holder, 'spawn');
  writeFileSync(file, JSON.stringify({ pid: holder.pid, start: processStartTime(holder.pid!) }));
  await assert.rejects(takeStartLock(file, 100), new RegExp(`another runtime \\(pid ${holder.pid}\\) has been starting for 100 ms`));
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const release = await takeStartLock(file, 100);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid, process.pid);
  release();
  assert.equal(existsSync(file), false);
});

test('start lock: a lock that cannot be read is held by nobody: it is taken', async (t) => {
  const file = join(tempDir(t), 'runtime.lock');
  writeFileSync(file, '{"pi');
  const release = await takeStartLock(file, 100);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid, process.pid);
  release();
});

/** A zombie (exited, not reaped: its parent `sleep` never waits) and the process holding it, killed when the test ends. */
async function zombie(t: { after(fn: () => unknown): void }): Promise<number> {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => parent.kill('SIGKILL'));
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pid = Number(line.toString().trim());
  // Bounded: `sleep 0` ends at once.
  for (let i = 0; i < 250 && !isZombie(pid); i++) await delay(20);
  assert.ok(isZombie(pid), `pid ${pid} never became a zombie`);
  return pid;
}

test('a zombie (a runtime killed whose parent died, an init that reaps late) holds neither the start lock nor the pid file', async (t) => {
  const pid = await zombie(t);
  assert.equal(isSameProcessAlive(pid, null), true, 'kill(pid, 0) succeeds on a zombie');
  assert.equal(isRunning(pid, processStartTime(pid)), false);
  const dir = tempDir(t);
  const record = JSON.stringify({ pid, start: processStartTime(pid) });
  writeFileSync(join(dir, 'runtime.pid'), record);
  assert.equal(runningRuntime(join(dir, 'runtime.pid')), null);
  writeFileSync(join(dir, 'runtime.lock'), record);
  const release = await takeStartLock(join(dir, 'runtime.lock'), 100);
  release();
});
