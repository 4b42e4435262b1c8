import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { Db } from './db.js';
import { insertDelivery } from './deliveries.js';
import { CLOSED, DONE, IDLE, STATE, STOP, type BatchMessage, type BatchResult, type PruneMessage, type PruneResult, type WireError, type WriterData } from './later-writer.js';
import { prune } from './prune.js';
import type { DeliveryRecord } from './types.js';

/**
 * The thread that writes the deliveries recorded later (later-writer.ts), on a connection of its
 * own to the store's file. It takes a batch only by moving STATE from IDLE to the batch's seq:
 * once the main thread has set STATE to CLOSED, it writes nothing more (the main thread writes
 * what it had not confirmed). It answers each batch before it marks it DONE.
 */
const { file, shared, port } = workerData as WriterData;
let db: Db | null = null;

function open(): Db {
  // fileMustExist: a store closed and deleted meanwhile is not made again, empty.
  const raw = new Database(file, { fileMustExist: true });
  raw.pragma('busy_timeout = 5000');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  // Appends and small index lookups: 2 MiB of page cache do (16 by default, kept per connection).
  raw.pragma('cache_size = -2048');
  return new Db(raw);
}

/** The rows with their bodies: Buffers over the shared bytes (SQLite copies them as it binds). */
function unpack(m: BatchMessage): DeliveryRecord[] {
  return m.rows.map((r, i) => {
    const start = i === 0 ? 0 : (m.ends[i - 1] as number);
    return { ...r, body: Buffer.from(m.bodies, start, (m.ends[i] as number) - start) };
  });
}

/** An error as it crosses to the main thread (a SqliteError would be cloned without its message). */
function wire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } };
}

/** The batch in one transaction; when it fails, each row alone, so a failing row loses only itself. */
function write(d: Db, rows: DeliveryRecord[]): BatchResult['out'] {
  try {
    return d.tx(() => rows.map((r) => insertDelivery(d, r)));
  } catch (err) {
    if (rows.length === 1) return [wire(err)];
    return rows.map((r) => {
      try {
        return d.tx(() => insertDelivery(d, r));
      } catch (e) {
        return wire(e);
      }
    });
  }
}

/** A retention pass, between the batches (it yields a turn between its own); stopped by STOP or by the close. */
async function runPrune(m: PruneMessage): Promise<void> {
  let answer: PruneResult;
  try {
    const d = (db ??= open());
    const stop = () => Atomics.load(shared, STOP) === 1 || Atomics.load(shared, STATE) === CLOSED || !d.raw.open;
    answer = { pruned: m.prune, out: await prune(d.raw, m.policy, new Date(m.now), { shouldStop: stop }) };
  } catch (err) {
    answer = { pruned: m.prune, error: wire(err).error };
  }
  port.postMessage(answer);
}

port.on('message', (m: BatchMessage | PruneMessage | 'close') => {
  if (m === 'close') {
    db?.raw.close();
    port.close();
    return;
  }
  if ('prune' in m) {
    void runPrune(m);
    return;
  }
  if (Atomics.compareExchange(shared, STATE, IDLE, m.seq) !== IDLE) return; // closed: the main thread writes it
  let answer: BatchResult;
  try {
    db ??= open();
    answer = { seq: m.seq, out: write(db, unpack(m)) };
  } catch (err) {
    // The file cannot be opened here: the main thread writes the ledger from now on, this batch
    // too; the thread takes no other (STATE stays CLOSED).
    port.postMessage({ seq: m.seq, out: [], refused: wire(err).error.message } satisfies BatchResult);
    Atomics.store(shared, DONE, m.seq);
    Atomics.store(shared, STATE, CLOSED);
    Atomics.notify(shared, DONE);
    Atomics.notify(shared, STATE);
    return;
  }
  port.postMessage(answer);
  // DONE after the answer: a main thread that sees DONE >= seq finds the answer on its port.
  Atomics.store(shared, DONE, m.seq);
  Atomics.store(shared, STATE, IDLE);
  Atomics.notify(shared, DONE);
  Atomics.notify(shared, STATE);
});
