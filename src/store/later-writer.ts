import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Pruned, RetentionPolicy } from './prune.js';
import type { DeliveryRecord } from './types.js';

/**
 * The writer thread of the deliveries recorded later (Store.recordDeliveryLater): the main
 * thread hands each turn's batch over (the rows are copied, the bodies into one shared buffer:
 * see pack) and goes on; a thread of its own writes it on its
 * own connection to the same file (WAL, busy_timeout), one transaction per batch, and answers
 * with the ids or, row by row, the errors.
 *
 * Nothing answered is lost and nothing is written twice. Two Int32 slots shared with the thread:
 * - DONE, the seq of the last batch the thread has finished (each row written or its error
 *   answered); its answer is on the port before DONE moves, so `settle` (Atomics.wait on DONE,
 *   then receiveMessageOnPort) confirms batches synchronously, for any read of the ledger.
 * - STATE, IDLE or the seq of the batch being written, or CLOSED. The thread starts a batch only
 *   by moving STATE from IDLE to its seq; `close` moves it from IDLE to CLOSED (waiting for the
 *   batch being written to end). After that the thread writes nothing: every batch above DONE is
 *   unwritten and the main thread writes it. close runs on Store.close and on 'exit' (also after
 *   process.exit, while the thread still runs).
 * The one case left: a thread that dies between a commit and DONE (it cannot throw there) would
 * have that batch written again by the main thread.
 */

/** Slots of `shared`. STOP: 1 asks the retention pass the thread runs to stop. */
export const STATE = 0;
export const DONE = 1;
export const STOP = 2;
export const IDLE = 0;
export const CLOSED = -1;

/**
 * Batches handed over and not confirmed, at most: the main thread waits for the oldest before
 * it hands over one more (makeRoom). What the thread holds is answered and lost to a kill -9,
 * so a thread that falls behind (booting during a flood, waiting on a lock) must not take the
 * flood's every turn meanwhile; ids still follow arrival.
 */
export const MAX_BATCHES_OUT = 2;

/** How long the main thread waits for the thread (busy_timeout is 5 s) before it writes the rows itself. */
const WAIT_MS = 15_000;

export interface Pending {
  record: DeliveryRecord;
  onError: (err: unknown, count: number) => void;
}

export interface WriterData {
  file: string;
  shared: Int32Array;
  port: MessagePort;
}

/** The rows without their bodies, which are in `bodies` one after the other, the i-th ending at ends[i]. */
export interface BatchMessage {
  seq: number;
  rows: Omit<DeliveryRecord, 'body'>[];
  bodies: SharedArrayBuffer;
  ends: number[];
}

/** A retention pass for the thread to run (prune.ts), and its answer. */
export interface PruneMessage {
  prune: number;
  policy: RetentionPolicy;
  now: string;
}

export interface PruneResult {
  pruned: number;
  out?: Pruned;
  error?: WireError['error'];
}

export interface WireError {
  error: { name: string; message: string; code?: string };
}

/** Per row: its id, or why it could not be written; or, when the thread cannot write at all, why. */
export interface BatchResult {
  seq: number;
  out: (number | WireError)[];
  refused?: string;
}

/** What the writer tells the store: rows written (with their ids), a row lost, rows the main thread must write. */
export interface WriterHooks {
  written(rows: Pending[], ids: number[]): void;
  failed(rows: Pending[], err: unknown): void;
  writeHere(rows: Pending[]): void;
}

/**
 * The thread's heap: its objects are a batch's small rows (the bodies are shared bytes), so a
 * young generation of a few MiB does; V8's default grows it to 32 MiB under a flood, which was
 * most of the ~50 MiB the thread added to the process's peak.
 */
const WRITER_LIMITS = { maxYoungGenerationSizeMb: 4 };

export class LaterWriter {
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** Batches handed over and not confirmed, oldest first. */
  private batches: { seq: number; rows: Pending[]; refused?: boolean }[] = [];
  private seq = 0;
  /** Retention passes sent to the thread and not answered. */
  private readonly prunes = new Map<number, { resolve(p: Pruned): void; reject(err: Error): void }>();
  private pruneSeq = 0;
  private dead = false;
  closed = false;

  constructor(file: string, private readonly hooks: WriterHooks) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.on('message', (m: BatchResult | PruneResult) => this.heard(m));
    this.port.unref();
    this.worker = startWorker({ file, shared: this.shared, port: port2 }, [port2]);
    // The store's owner decides when the process ends: the thread never holds it up.
    this.worker.unref();
    this.worker.on('error', (err) => {
      this.dead = true;
      process.emitWarning(`the delivery writer thread failed: ${err instanceof Error ? err.message : String(err)}; the main thread writes the ledger`);
      this.close();
    });
  }

  /** Hands a batch over; the port is referenced while a batch is out, so its answer is heard. */
  send(rows: Pending[]): void {
    const seq = ++this.seq;
    this.batches.push({ seq, rows });
    this.hold();
    this.port.postMessage({ seq, ...pack(rows) } satisfies BatchMessage);
  }

  /** Runs a retention pass on the thread, between its batches; `signal` stops it between two of its own. */
  prune(policy: RetentionPolicy, now: Date, signal: AbortSignal): Promise<Pruned> {
    const id = ++this.pruneSeq;
    Atomics.store(this.shared, STOP, signal.aborted ? 1 : 0);
    const stop = () => Atomics.store(this.shared, STOP, 1);
    signal.addEventListener('abort', stop, { once: true });
    return new Promise<Pruned>((resolve, reject) => {
      this.prunes.set(id, { resolve, reject });
      this.hold();
      this.port.postMessage({ prune: id, policy, now: now.toISOString() } satisfies PruneMessage);
    }).finally(() => signal.removeEventListener('abort', stop));
  }

  /** Returns once every batch handed over is confirmed (written or reported); after WAIT_MS, closes. */
  settle(): void {
    this.waitFor(0);
  }

  /** Returns once fewer than MAX_BATCHES_OUT batches are unconfirmed (the caller may then `send`, unless it closed). */
  makeRoom(): void {
    this.waitFor(MAX_BATCHES_OUT - 1);
  }

  /** Confirms batches until at most `left` are out; after WAIT_MS, closes. */
  private waitFor(left: number): void {
    const deadline = Date.now() + WAIT_MS;
    while (this.batches.length > left && !this.closed) {
      const done = Atomics.load(this.shared, DONE);
      this.drain();
      if (this.batches.length <= left) return;
      const ms = deadline - Date.now();
      if (this.dead || ms <= 0 || Atomics.wait(this.shared, DONE, done, ms) === 'timed-out') this.close();
    }
  }

  /**
   * Ends the thread: no batch is written by it after this returns; those it had not finished
   * are given to hooks.writeHere, in order. Waits for the batch being written, up to WAIT_MS:
   * past that (a thread stuck on a lock held elsewhere) its rows stay with it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A pass in progress stops at its next batch; whoever waits for it (Retention.stop) goes on.
    Atomics.store(this.shared, STOP, 1);
    for (const p of this.prunes.values()) p.reject(new Error('the ledger writer thread stopped during a retention pass'));
    this.prunes.clear();
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const s = Atomics.compareExchange(this.shared, STATE, IDLE, CLOSED);
      if (s === IDLE || s === CLOSED) break;
      const left = deadline - Date.now();
      if (this.dead) Atomics.store(this.shared, STATE, CLOSED);
      else if (left <= 0 || Atomics.wait(this.shared, STATE, s, left) === 'timed-out') return this.abandon();
    }
    this.drain();
    const done = Atomics.load(this.shared, DONE);
    const unwritten = this.batches.filter((b) => b.seq > done || b.refused);
    this.batches = [];
    this.end();
    const rows = unwritten.flatMap((b) => b.rows);
    if (rows.length > 0) this.hooks.writeHere(rows);
  }

  /**
   * close() past WAIT_MS: the thread is stuck in a batch (a lock held elsewhere). What it holds
   * may still be written by it, or not: its rows are reported (onError, the log, once) as maybe lost,
   * never silently dropped, and not written here (it could then be written twice).
   */
  private abandon(): void {
    const left = this.batches;
    this.batches = [];
    this.end();
    const err = new Error(`the ledger writer thread did not finish its batch within ${WAIT_MS / 1000} s (the database locked by another process?); these answered deliveries may not be in the ledger`);
    const rows = left.flatMap((b) => b.rows);
    if (rows.length > 0) this.hooks.failed(rows, err);
  }

  private end(): void {
    this.port.unref();
    if (!this.dead) this.port.postMessage('close');
  }

  /** The port holds the process up while an answer is awaited (a batch's events, a pass's result). */
  private hold(): void {
    if (!this.closed && (this.batches.length > 0 || this.prunes.size > 0)) this.port.ref();
    else this.port.unref();
  }

  /** Takes the answers already on the port. */
  private drain(): void {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.heard(m.message as BatchResult | PruneResult);
  }

  private heard(m: BatchResult | PruneResult): void {
    if ('pruned' in m) {
      const p = this.prunes.get(m.pruned);
      this.prunes.delete(m.pruned);
      this.hold();
      if (m.out) p?.resolve(m.out);
      else p?.reject(fromWire({ error: m.error ?? { name: 'Error', message: 'no answer' } }));
      return;
    }
    const i = this.batches.findIndex((b) => b.seq === m.seq);
    if (i < 0) return; // taken back by close
    if (m.refused !== undefined) {
      this.batches[i]!.refused = true;
      process.emitWarning(`the ledger writer thread cannot write (${m.refused}); the main thread writes the ledger`);
      return this.close();
    }
    const [batch] = this.batches.splice(i, 1);
    this.hold();
    const done: Pending[] = [];
    const ids: number[] = [];
    batch!.rows.forEach((p, j) => {
      const out = m.out[j];
      if (typeof out === 'number') {
        done.push(p);
        ids.push(out);
      } else this.hooks.failed([p], fromWire(out));
    });
    this.hooks.written(done, ids);
  }
}

/**
 * The bodies go in one SharedArrayBuffer (one copy, and the message carries a reference): a
 * structured clone of each Buffer costs several times that, in the main thread. The rows keep
 * their own bodies, for the main thread to write what the thread did not.
 */
function pack(rows: Pending[]): Omit<BatchMessage, 'seq'> {
  const bodies = new SharedArrayBuffer(rows.reduce((n, p) => n + p.record.body.byteLength, 0));
  const bytes = new Uint8Array(bodies);
  const ends: number[] = [];
  let end = 0;
  const out = rows.map(({ record: { body, ...rest } }) => {
    bytes.set(body, end);
    end += body.byteLength;
    ends.push(end);
    return rest;
  });
  return { rows: out, bodies, ends };
}

function fromWire(out: WireError | undefined): Error {
  const e = new Error(out?.error.message ?? 'the writer thread gave no answer for this row');
  e.name = out?.error.name ?? 'Error';
  if (out?.error.code !== undefined) Object.assign(e, { code: out.error.code });
  return e;
}

/**
 * The thread, from the module next to this one: built JS under dist/, or, under tsx (tests),
 * the TypeScript file, with tsx's hooks registered in the thread first (Node 20's workers do
 * not inherit them from `--import tsx`).
 */
function startWorker(workerData: WriterData, transferList: MessagePort[]): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const file = new URL('./later-writer-worker.ts', here).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`;
    return new Worker(boot, { eval: true, execArgv: [], workerData, transferList, resourceLimits: WRITER_LIMITS });
  }
  return new Worker(new URL('./later-writer-worker.js', here), { workerData, transferList, resourceLimits: WRITER_LIMITS });
}
