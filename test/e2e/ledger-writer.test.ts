import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { ids, ledgerIds, runStoreChild } from '../helpers/later-writes.js';

// The writer thread of the built store (dist/, as the server runs it; `npm run build` first):
// its module is found next to the store's, rows are written, and the process ends by itself.

const STORE = new URL('../../dist/store/store.js', import.meta.url);

test('the built store writes deliveries recorded later on its writer thread, and a process that closes it ends', async (t) => {
  assert.ok(existsSync(STORE), 'dist/store/store.js: run npm run build first');
  assert.ok(existsSync(new URL('./later-writer-worker.js', STORE)), 'the build emits the writer thread module');
  const dir = tempDir(t);
  const file = join(dir, 'autopull.db');
  let events = '';
  const res = await runStoreChild(dir, STORE.href, file, `for (let i = 0; i < 30; i++) rec('w' + i);
const written = [];
await new Promise((resolve) => s.on('delivery', (e) => written.push(e.id) === 30 && resolve()));
console.log(written.join(','));
rec('last');
s.close();`, (line) => (events = line));
  assert.equal(res.code, 0, res.stderr);
  assert.equal(events, Array.from({ length: 30 }, (_, i) => i + 1).join(','), 'a delivery event per row, with its id');
  assert.deepEqual(ledgerIds(file), [...ids('w', 30), 'last']);
});
