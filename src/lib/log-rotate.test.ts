import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { rotateIfLarge } from './log-rotate.js';

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
