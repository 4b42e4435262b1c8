import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, type DeliveryEvent, type DeliveryRecord } from './store.js';
import { tempDir } from '../../test/helpers/tmp.js';

// Store.recordDeliveryLater: deliveries whose answer promises nothing are written after the
// answer, together, and every reader still sees them.

function open(t: { after(fn: () => unknown): void }): { store: Store; file: string } {
  const file = join(tempDir(t), 'autopull.db');
  const store = new Store(file);
  t.after(() => store.close());
  return { store, file };
}

function row(id: string, status = 403, o: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    delivery_id: id, provider: 'github', event: 'push', repo: 'site', received_at: new Date().toISOString(), remote_addr: '127.0.0.1',
    status_code: status, outcome: status === 200 ? 'ignored' : 'signature_mismatch', message: 'm', headers: {}, body: Buffer.from('{}'), body_truncated: false, ...o,
  };
}

const never = () => assert.fail('no write failed');

/** Rows another connection sees (what the CLI reads): only what was committed. */
function committed(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT delivery_id FROM deliveries ORDER BY id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** Resolves with the next `n` delivery events. */
function heard(store: Store, n: number): Promise<DeliveryEvent[]> {
  const events: DeliveryEvent[] = [];
  return new Promise((resolve) => {
    const on = (e: DeliveryEvent) => {
      events.push(e);
      if (events.length < n) return;
      store.off('delivery', on);
      resolve(events);
    };
    store.on('delivery', on);
  });
}

test('deliveries recorded later are written together after the turn ends, by the writer thread, in order, each followed by its event', async (t) => {
  const { store, file } = open(t);
  const all = heard(store, 5);
  for (let i = 1; i <= 5; i++) store.recordDeliveryLater(row(`d${i}`), never);
  assert.deepEqual(committed(file), [], 'nothing is written in the turn that answered');
  const events = await all;
  assert.deepEqual(committed(file), ['d1', 'd2', 'd3', 'd4', 'd5']);
  assert.deepEqual(events.map((e) => [e.status_code, e.provider]), Array(5).fill([403, 'github']));
  assert.deepEqual(events.map((e) => e.id), [1, 2, 3, 4, 5]);
});

test('every read through the store sees a delivery recorded later at once', (t) => {
  const { store } = open(t);
  store.recordDeliveryLater(row('a'), never);
  assert.deepEqual(store.listDeliveries().map((d) => d.delivery_id), ['a']);
  store.recordDeliveryLater(row('b'), never);
  assert.equal(store.getDelivery(2)?.delivery_id, 'b');
  store.recordDeliveryLater(row('c'), never);
  assert.equal(store.db.prepare('SELECT count(*) FROM deliveries').pluck().get(), 3, 'the raw connection too');
});

test('a delivery with jobs is written after those recorded later before it, in one transaction', (t) => {
  const { store, file } = open(t);
  store.recordDeliveryLater(row('refused'), never);
  const out = store.recordDelivery(row('queued', 202, { outcome: 'queued' }), [{ repo: 'site', ref: 'refs/heads/main', hintSha: null }]);
  assert.deepEqual(committed(file), ['refused', 'queued']);
  assert.equal(out.id, 2);
});

test('an accepted delivery not written yet already makes its id a duplicate, for its repos only', (t) => {
  const { store } = open(t);
  store.recordDeliveryLater(row('same', 200, { repo: 'site,blog' }), never);
  store.recordDeliveryLater(row('refused', 403), never);
  assert.equal(store.isDuplicate('github', 'same', ['blog']), true);
  assert.equal(store.isDuplicate('github', 'same', ['docs']), false);
  assert.equal(store.isDuplicate('gitlab', 'same', ['site']), false);
  assert.equal(store.isDuplicate('github', 'refused', ['site']), false, 'a refused delivery burns no id');
});

test('a row that cannot be written is reported to its listener and loses only itself; the store goes on', async (t) => {
  const { store, file } = open(t);
  const reports: [string, number][] = [];
  let reported!: () => void;
  const report = new Promise<void>((resolve) => (reported = resolve));
  const onError = (err: unknown, n: number) => {
    reports.push([(err as Error).message, n]);
    reported();
  };
  const others = heard(store, 2);
  store.recordDeliveryLater(row('w'), never);
  // status_code is NOT NULL: this row cannot be written; its batch fails, then each is written alone.
  store.recordDeliveryLater(row('x', null as unknown as number), onError);
  store.recordDeliveryLater(row('y'), never);
  await Promise.all([report, others]);
  assert.equal(reports.length, 1);
  assert.match(reports[0]![0], /NOT NULL/);
  assert.equal(reports[0]![1], 1);
  assert.deepEqual(committed(file), ['w', 'y']);
  const z = heard(store, 1);
  store.recordDeliveryLater(row('z'), never);
  await z;
  assert.deepEqual(committed(file), ['w', 'y', 'z']);
});

test('a pending row that cannot be written does not fail the delivery with jobs written after it', (t) => {
  const { store, file } = open(t);
  const reports: number[] = [];
  store.recordDeliveryLater(row('x', null as unknown as number), (_err, n) => reports.push(n));
  store.recordDeliveryLater(row('refused'), never);
  const out = store.recordDelivery(row('queued', 202, { outcome: 'queued' }), [{ repo: 'site', ref: 'refs/heads/main', hintSha: null }]);
  assert.equal(out.jobs.length, 1);
  assert.deepEqual(committed(file), ['refused', 'queued']);
  assert.deepEqual(reports, [1]);
});

test('close writes what is pending', (t) => {
  const file = join(tempDir(t), 'autopull.db');
  const store = new Store(file);
  store.recordDeliveryLater(row('last'), never);
  store.close();
  assert.deepEqual(committed(file), ['last']);
});

test('a process that exits at once (a second SIGTERM while stopping: process.exit) still writes what is pending', (t) => {
  const file = join(tempDir(t), 'autopull.db');
  const store = new URL('./store.ts', import.meta.url).href;
  // A real process: the rows are answered, then the process exits in the same turn, before
  // the setImmediate that writes them runs and without Store.close.
  const base = JSON.stringify({ ...row('x'), body: undefined });
  const script = `const { Store } = await import(${JSON.stringify(store)});
const s = new Store(${JSON.stringify(file)});
for (const id of ['a', 'b']) s.recordDeliveryLater({ ...${base}, delivery_id: id, body: Buffer.from('{}') }, () => {});
process.exit(1);`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 1, res.stderr);
  assert.deepEqual(committed(file), ['a', 'b']);
});

test('a delivery listener that throws is a process warning, not a crash: the rows stay written', async (t) => {
  const { store, file } = open(t);
  const heard: number[] = [];
  store.on('delivery', () => {
    throw new Error('listener bug');
  });
  store.on('delivery', (e: DeliveryEvent) => heard.push(e.id));
  const warned = once(process, 'warning');
  store.recordDeliveryLater(row('w1'), never);
  await new Promise((resolve) => setImmediate(resolve));
  const [w] = (await warned) as [Error];
  assert.match(w.message, /a listener of the delivery event threw: listener bug/);
  assert.deepEqual(committed(file), ['w1']);
  assert.deepEqual(heard, [], 'an EventEmitter stops at the first throw: the later listener is not called');
});
