import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { openLog, TurnBatch } from './log.js';
import { tempDir } from '../../test/helpers/tmp.js';

const LOG = new URL('./log.ts', import.meta.url).pathname;

/** Runs `body` in a child node (tsx) with `log` opened on FILE; returns its exit status. */
function child(file: string, body: string): number {
  const code = `import { openLog } from ${JSON.stringify(LOG)};\nconst { logger: log } = openLog({ level: 'info', file: ${JSON.stringify(file)} });\n${body}`;
  try {
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'ignore', timeout: 30_000 });
    return 0;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

const messages = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);

test('the lines of one turn reach the destination in one write, in order; the next turn writes again', async () => {
  const writes: string[] = [];
  const batch = new TurnBatch({ write: (text: string) => writes.push(text) });
  batch.write('a\n');
  batch.write('b\n');
  batch.write('c\n');
  assert.deepEqual(writes, [], 'nothing is written within the turn');
  await turn();
  assert.deepEqual(writes, ['a\nb\nc\n']);
  batch.write('d\n');
  await turn();
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
});

test('lines logged just before process.exit are in the log file, in order', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.log');
  const status = child(file, `for (let i = 0; i < 50; i++) log.info('line ' + i);\nlog.error('last words');\nprocess.exit(3);`);
  assert.equal(status, 3);
  assert.deepEqual(messages(file), [...Array.from({ length: 50 }, (_, i) => `line ${i}`), 'last words']);
});

test("a line logged by another 'exit' listener, after the log's own ran, is in the log file", (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.log');
  // The log's exit listener is added by the first line; this one comes after it, as a store's flush on exit may.
  const status = child(file, `log.info('first');\nprocess.on('exit', () => log.error('from a later exit listener'));\nprocess.exit(4);`);
  assert.equal(status, 4);
  assert.deepEqual(messages(file), ['first', 'from a later exit listener']);
});

test('a line logged just before an uncaught exception is in the log file', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.log');
  const status = child(file, `log.warn('about to fail');\nthrow new Error('boom');`);
  assert.notEqual(status, 0);
  assert.deepEqual(messages(file), ['about to fail']);
});

test('reopen writes the pending lines to the old file first (log rotation loses none)', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.log');
  const handle = openLog({ level: 'info', file });
  handle.logger.info('before');
  renameSync(file, `${file}.1`);
  handle.reopen();
  handle.logger.info('after');
  await turn();
  assert.deepEqual(messages(`${file}.1`), ['before']);
  assert.deepEqual(messages(file), ['after']);
});
