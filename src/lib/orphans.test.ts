import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { killProcessesInside, processesInside } from './orphans.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('finds and kills the processes working inside a folder, and only those', async (t) => {
  const dir = tempDir(t);
  const inside = join(dir, 'releases', 'r1');
  mkdirSync(join(inside, 'sub'), { recursive: true });
  const child = spawn('sh', ['-c', 'cd sub && sleep 30'], { cwd: inside, detached: true, stdio: 'ignore' });
  const other = spawn('sleep', ['30'], { cwd: dir, detached: true, stdio: 'ignore' });
  t.after(() => {
    for (const c of [child, other]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const exited = new Promise((r) => child.on('exit', r));
  // Wait until the shell has changed into sub/ and started sleep (both inside).
  await new Promise<void>((resolve) => {
    const check = () => (processesInside(inside).length >= 2 ? resolve() : setImmediate(check));
    check();
  });
  assert.ok(!processesInside(inside).includes(other.pid as number));
  assert.ok(killProcessesInside(inside) >= 1);
  await exited;
  // The shell's exit is seen first; its sleep, killed with the group, may still be on its way
  // out (a SIGKILLed process keeps its /proc entry until the kernel has torn it down).
  const deadline = Date.now() + 5000;
  while (processesInside(inside).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(processesInside(inside), []);
  assert.equal(other.exitCode, null, 'a process outside the folder is left alone');
});
