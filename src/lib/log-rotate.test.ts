import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { waitUntil } from '../../test/helpers/app.js';
import { copyTruncateIfLarge, LogCaps, rotateIfLarge } from './log-rotate.js';

test('rotateIfLarge: a log over the size moves to .1 (replacing the older one); a small or missing one stays', (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'runtime.log');
  assert.equal(rotateIfLarge(log, 10), false);
  writeFileSync(log, 'small\n');
  assert.equal(rotateIfLarge(log, 10), false);
  assert.equal(readFileSync(log, 'utf8'), 'small\n');
  writeFileSync(`${log}.1`, 'oldest\n');
  writeFileSync(log, 'x'.repeat(11));
  assert.equal(rotateIfLarge(log, 10), true);
  assert.equal(existsSync(log), false);
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'x'.repeat(11));
});

test('copyTruncateIfLarge: a running writer goes on at the start of its log; the old content is in .1; a planted .1 symlink is replaced, not followed', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'app.log');
  const outside = join(dir, 'outside.txt');
  writeFileSync(outside, 'not a log\n');
  symlinkSync(outside, `${log}.1`);
  // A real process holding its log as stdout (O_APPEND, as apps are started), printing a line every ms.
  const fd = openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, ['-e', 'let i = 0; const t = setInterval(() => { console.log(`line ${++i}`); if (i > 100000) clearInterval(t); }, 1);'], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  t.after(() => child.kill('SIGKILL'));
  await waitUntil('the log to pass 4 KiB', () => statSync(log).size > 4096);
  assert.equal(copyTruncateIfLarge(log, 4096), true);
  const kept = readFileSync(`${log}.1`, 'utf8');
  assert.ok(kept.length > 4096 && kept.startsWith('line 1\n'), 'the old content went to .1');
  assert.equal(lstatSync(`${log}.1`).isSymbolicLink(), false);
  assert.equal(readFileSync(outside, 'utf8'), 'not a log\n', 'the symlink target is untouched');
  await waitUntil('the app to write on', () => statSync(log).size > 200);
  const text = readFileSync(log, 'utf8');
  assert.match(text, /^line \d+\n/, 'the writer goes on at the start of the file (no hole of zero bytes)');
  const first = Number(/^line (\d+)/.exec(text)?.[1]);
  const last = Number(/line (\d+)\n$/.exec(kept)?.[1]);
  assert.ok(first > last, `the new file continues after .1 (${last} then ${first})`);
  assert.equal(copyTruncateIfLarge(log, 1024 * 1024), false, 'under the limit: left alone');
});

test('LogCaps: checks watched files only, until every watcher is gone', (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  writeFileSync(a, 'x'.repeat(100));
  writeFileSync(b, 'x'.repeat(100));
  const caps = new LogCaps(10, 60_000);
  const stopA1 = caps.watch(a);
  const stopA2 = caps.watch(a);
  assert.deepEqual(caps.check(), [a], 'b is not watched');
  writeFileSync(a, 'x'.repeat(100));
  stopA1();
  stopA1();
  assert.deepEqual(caps.check(), [a], 'one watcher is left');
  writeFileSync(a, 'x'.repeat(100));
  stopA2();
  assert.deepEqual(caps.check(), []);
  assert.equal(statSync(b).size, 100);
});
