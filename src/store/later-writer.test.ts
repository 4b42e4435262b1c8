import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, type DeliveryEvent, type DeliveryRecord } from './store.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { ids, ledgerIds, runStoreChild } from '../../test/helpers/later-writes.js';
import { MAX_BATCHES_OUT } from './later-writer.js';

// The writer thread of Store.recordDeliveryLater (later-writer.ts): what it holds still counts,
// what it has not written is written by the main thread when the store closes or the process
// exits, and nothing is written twice.

const STORE = new URL('./store.ts', import.meta.url).href;

function row(id: string, status = 200): DeliveryRecord {
  return {
    delivery_id: id, provider: 'github', event: 'push', repo: 'site', received_at: new Date().toISOString(), remote_addr: '127.0.0.1',
    status_code: status, outcome: status === 200 ? 'ignored' : 'signature_mismatch', message: 'm', headers: { 'x-id': id }, body: Buffer.from(id.slice(0, 1).repeat(8000)), body_truncated: false,
  };
}

const never = () => assert.fail('no write failed');
const turn = () => new Promise((resolve) => setImmediate(resolve));
const heard = (store: Store) => new Promise<DeliveryEvent>((resolve) => store.once('delivery', resolve));

function open(t: { after(fn: () => unknown): void }): { store: Store; file: string; dir: string } {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.db');
  const store = new Store(file);
  t.after(() => store.close());
  return { store, file, dir };
}

test('a delivery the writer thread holds is a duplicate already, and still once written', async (t) => {
  const { store, file } = open(t);
  // Another connection holds the write lock: the batch handed over cannot be written yet.
  const lock = new Database(file);
  t.after(() => lock.close());
  lock.exec('BEGIN IMMEDIATE');
  const written = heard(store);
  store.recordDeliveryLater(row('same'), never);
  await turn(); // handed over
  assert.deepEqual(ledgerIds(file), [], 'not written yet');
  assert.equal(store.isDuplicate('github', 'same', ['site']), true);
  assert.equal(store.isDuplicate('github', 'other', ['site']), false);
  lock.exec('ROLLBACK');
  await written;
  assert.deepEqual(ledgerIds(file), ['same']);
  assert.equal(store.isDuplicate('github', 'same', ['site']), true);
});

test('a delivery with jobs is written after every delivery recorded later before it: handed over or not, ids follow arrival', async (t) => {
  const { store, file } = open(t);
  store.recordDeliveryLater(row('a', 403), never);
  store.recordDeliveryLater(row('b', 403), never);
  await turn(); // a and b are the writer's
  store.recordDeliveryLater(row('c', 403), never); // still here
  const out = store.recordDelivery({ ...row('queued', 202), outcome: 'queued' }, [{ repo: 'site', ref: 'refs/heads/main', hintSha: null }]);
  assert.deepEqual(ledgerIds(file), ['a', 'b', 'c', 'queued']);
  assert.equal(out.id, 4);
  assert.deepEqual(store.listDeliveries().map((d) => [d.id, d.delivery_id]), [[4, 'queued'], [3, 'c'], [2, 'b'], [1, 'a']]);
  assert.deepEqual([1, 2].map((id) => store.getDelivery(id)?.body.toString()), ['a'.repeat(8000), 'b'.repeat(8000)], 'each body, as recorded');
});

test('close writes what the writer thread holds and what it was not given, each once', async (t) => {
  const { store, file } = open(t);
  for (const id of ids('h', 3)) store.recordDeliveryLater(row(id), never);
  await turn();
  for (const id of ids('p', 2)) store.recordDeliveryLater(row(id), never);
  store.close();
  assert.deepEqual(ledgerIds(file), [...ids('h', 3), ...ids('p', 2)]);
});

test('a process that records later and closes its store ends by itself, every row written', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.db');
  const res = await runStoreChild(dir, STORE, file, `for (let i = 0; i < 20; i++) rec('e' + i);
await turn();
for (let i = 0; i < 5; i++) rec('f' + i);
s.close();`);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(ledgerIds(file), [...ids('e', 20), ...ids('f', 5)]);
});

test('process.exit while the writer thread writes a batch: every answered row is written, none twice', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.db');
  // The child hands its writer a big batch and a small one, waits until the writer holds the
  // write lock (a probe connection cannot take it), records ten more and exits at once: the
  // exit waits for the batch being written and writes only the rest.
  const res = await runStoreChild(
    dir,
    STORE,
    file,
    `rec('a');
await new Promise((resolve) => s.once('delivery', resolve));
for (let i = 0; i < 2000; i++) rec('b' + i);
await turn();
for (let i = 0; i < 50; i++) rec('c' + i);
await turn();
const probe = new Database(${JSON.stringify(file)}, { timeout: 0 });
for (let i = 0; i < 100000; i++, await turn()) {
  try {
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
  } catch {
    break;
  }
}
for (let i = 0; i < 10; i++) rec('d' + i);
process.exit(3);`,
  );
  assert.equal(res.code, 3, res.stderr);
  assert.doesNotMatch(res.stderr, /lost/);
  assert.deepEqual(ledgerIds(file), ['a', ...ids('b', 2000), ...ids('c', 50), ...ids('d', 10)]);
});

test('with the writer thread up, a retention pass runs there: it deletes what the policy says, and an aborted one nothing', async (t) => {
  const { store, file } = open(t);
  const all = new Promise<void>((resolve) => {
    let n = 0;
    store.on('delivery', () => ++n === 30 && resolve());
  });
  for (const id of ids('r', 30)) store.recordDeliveryLater(row(id, 403), never);
  await all;
  const policy = { interval: 1000, deliveries: { max_age: 1e12, max_count: 100 }, rejected: { max_age: 1e12, max_count: 10 }, job_logs: { max_age: 1e12, max_jobs: 100 } };
  const aborted = new AbortController();
  aborted.abort();
  assert.deepEqual(await store.prune(policy, new Date(), aborted.signal), { deliveries: 0, rejected: 0, log_lines: 0 });
  assert.deepEqual(await store.prune(policy, new Date(), new AbortController().signal), { deliveries: 0, rejected: 20, log_lines: 0 });
  assert.deepEqual(ledgerIds(file), ids('r', 30).slice(20));
});

test('an accepted delivery whose write failed stops counting as a duplicate once reported', async (t) => {
  const { store } = open(t);
  const lost = new Promise<number>((resolve) => store.recordDeliveryLater({ ...row('gone'), outcome: null as unknown as string }, (_err, n) => resolve(n)));
  assert.equal(store.isDuplicate('github', 'gone', ['site']), true, 'counted from its answer');
  assert.equal(await lost, 1);
  assert.equal(store.isDuplicate('github', 'gone', ['site']), false);
});

test('a writer thread that cannot open the file gives its batch back: the main thread writes the ledger, with a warning', async (t) => {
  const { store, file } = open(t);
  // The store's connection keeps the file it opened; a new one (the thread's) finds none.
  rmSync(file);
  const warned = once(process, 'warning');
  const first = heard(store);
  store.recordDeliveryLater(row('x'), never);
  const [w] = (await warned) as [Error];
  assert.match(w.message, /the ledger writer thread cannot write .*the main thread writes the ledger/);
  assert.equal((await first).id, 1);
  store.recordDeliveryLater(row('y'), never);
  await heard(store);
  assert.deepEqual(store.listDeliveries().map((d) => d.delivery_id), ['y', 'x']);
});

test('kill -9 during a flood loses at most the last few turns: the writer thread is never handed more than it keeps up with', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.db');
  // A hundred turns of twenty answered rows, then a SIGKILL right after the last hand-over:
  // the rows lost are those still with the thread, which may be behind by MAX_BATCHES_OUT
  // batches at most (it was behind by the whole flood while it booted, and unbounded after).
  let recorded = 0;
  const res = await runStoreChild(
    dir,
    STORE,
    file,
    `let n = 0;
for (let i = 0; i < 100; i++) {
  for (let j = 0; j < 20; j++) rec('k' + n++);
  await turn();
}
console.log(n);
process.kill(process.pid, 'SIGKILL');`,
    (line) => (recorded = Number(line)),
  );
  assert.equal(res.code, null, 'killed');
  assert.equal(recorded, 2000, res.stderr);
  const written = ledgerIds(file);
  assert.deepEqual(written, ids('k', written.length), 'in order, none twice');
  assert.ok(written.length >= recorded - MAX_BATCHES_OUT * 20, `${written.length} of ${recorded} written`);
});
