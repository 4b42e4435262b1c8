import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../lib/proc.js';
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
