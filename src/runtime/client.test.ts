import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { ensureRuntime, RuntimeError } from './client.js';
import { MAX_SOCKET_PATH } from './runtime.js';

test('a data_dir too long for the control socket is refused with the path, its length and the limit; nothing is made', async (t) => {
  const base = tempDir(t);
  const dataDir = join(base, 'd'.repeat(MAX_SOCKET_PATH - base.length));
  mkdirSync(dataDir);
  const err = await ensureRuntime(dataDir).then(
    () => assert.fail('a runtime started'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RuntimeError);
  assert.equal(err.code, 'socket_path_too_long');
  assert.ok(err.message.includes(`data_dir ${dataDir} is too long`), err.message);
  assert.match(err.message, new RegExp(`is \\d+ bytes, the system takes ${MAX_SOCKET_PATH}`));
  // Before: the socket was bound at the path cut short, in data_dir's parent.
  assert.deepEqual(readdirSync(base), [dataDir.slice(base.length + 1)]);
  assert.deepEqual(readdirSync(dataDir), []);
});
