import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { runGated } from './exec.js';

test('runGated runs its argv as given, only at go(), once', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const odd = 'a "quoted" $(touch pwned) `x` ;|& word';
  let pid = 0;
  const gated = runGated('sh', ['-c', 'printf "%s" "$1" > out; echo said', 'sh', odd], { cwd: dir, onSpawn: (p) => (pid = p) });
  assert.ok(pid > 0, 'the process exists before go()');
  assert.ok(!existsSync(out), 'nothing ran yet');
  const res = await gated.go();
  assert.equal(res.stdout, 'said\n');
  assert.equal(readFileSync(out, 'utf8'), odd, 'the argument arrived as one argv element, not as shell text');
  assert.ok(!existsSync(join(dir, 'pwned')));
  await assert.rejects(gated.go(), /started twice/);
  await gated.cancel();
});

test('runGated: cancel() lets the process go without running anything; a failing command rejects at go()', async (t) => {
  const dir = tempDir(t);
  const unused = runGated('touch', ['ran'], { cwd: dir });
  await unused.cancel();
  assert.ok(!existsSync(join(dir, 'ran')));
  await assert.rejects(unused.go(), /started twice/);
  await assert.rejects(runGated('sh', ['-c', 'echo nope >&2; exit 3'], { cwd: dir }).go(), /exit 3: nope/);
});
