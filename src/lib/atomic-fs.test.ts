import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { replaceSymlink, replaceSymlinkSyncLater } from './atomic-fs.js';

test('replaceSymlinkSyncLater points the link at its target before its fsync is awaited, and leaves no temp link', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const link = join(dir, 'current');
  replaceSymlink(link, 'a');
  const onDisk = replaceSymlinkSyncLater(link, 'b');
  assert.equal(readlinkSync(link), 'b', 'switched on return');
  await onDisk;
  assert.equal(readlinkSync(link), 'b');
  assert.deepEqual(readdirSync(dir).sort(), ['a', 'b', 'current']);
});

test('replaceSymlinkSyncLater throws at once when the link cannot be made, and leaves the old one', async (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'current');
  replaceSymlink(link, 'a');
  assert.throws(() => replaceSymlinkSyncLater(join(dir, 'missing', 'current'), 'b'), /ENOENT/);
  assert.equal(readlinkSync(link), 'a');
});
