// node --import tsx bench/store.ts: what `synchronous = FULL` costs for the writes autopull
// makes durable (a delivery and its jobs, a job's claim and end; store.ts says why), against
// the same writes under NORMAL in the same run, on this machine's disk. Writes
// docs/BENCHMARKS-store.md. Bounded: a fixed count of writes per case.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store/store.js';
import { runBench, writeReport } from './report.js';

const N = 400;
const cleanups: (() => unknown)[] = [];

function delivery(i: number) {
  return {
    delivery_id: `d-${i}`, provider: 'github', event: 'push', repo: 'site', received_at: new Date().toISOString(), remote_addr: '127.0.0.1',
    status_code: 202, outcome: 'queued', message: 'queued', headers: { 'x-github-event': 'push' }, body: Buffer.alloc(2048, 'x'), body_truncated: false,
  };
}

/** ms per write of `N` deliveries with one job each, the store's writes made NORMAL when `normal`. */
function measure(normal: boolean): { perWrite: number; perLog: number } {
  const dir = mkdtempSync(join(tmpdir(), 'autopull-bench-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new Store(join(dir, 'autopull.db'));
  try {
    if (normal) {
      // The baseline: the same calls with the FULL switch disabled for this connection.
      const raw = store.db;
      const pragma = raw.pragma.bind(raw);
      raw.pragma = ((source: string, opts?: never) => (source.startsWith('synchronous') ? [] : pragma(source, opts))) as typeof raw.pragma;
    }
    const t0 = performance.now();
    for (let i = 0; i < N; i++) store.recordDelivery(delivery(i), [{ repo: `r${i}`, ref: 'refs/heads/main', hintSha: null }]);
    const perWrite = (performance.now() - t0) / N;
    const t1 = performance.now();
    for (let i = 0; i < N * 5; i++) store.appendLog(1, 'out', `line ${i}`);
    const perLog = (performance.now() - t1) / (N * 5);
    return { perWrite, perLog };
  } finally {
    store.close();
  }
}

async function main(): Promise<void> {
  // Alternated, best of three each: the first run on a fresh page cache is slower either way.
  const runs = [true, false, true, false, true, false].map((normal) => ({ normal, ...measure(normal) }));
  const best = (normal: boolean) => {
    const mine = runs.filter((r) => r.normal === normal);
    return { perWrite: Math.min(...mine.map((r) => r.perWrite)), perLog: Math.min(...mine.map((r) => r.perLog)) };
  };
  const normal = best(true);
  const full = best(false);
  const f = (n: number) => n.toFixed(3);
  writeReport('BENCHMARKS-store.md', [
    '# Store: the cost of durable writes',
    '',
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Linux ${release()}, Node ${process.version}, data in ${tmpdir()}.`,
    `Reproduce: \`node --import tsx bench/store.ts\`. ${N} deliveries (2 KiB body, one job each), then ${N * 5} job log lines.`,
    '',
    '| write | NORMAL (baseline) ms | FULL for queue writes ms | ratio |',
    '| --- | ---: | ---: | ---: |',
    `| delivery + job (durable) | ${f(normal.perWrite)} | ${f(full.perWrite)} | ${(full.perWrite / normal.perWrite).toFixed(2)}x |`,
    `| job log line (stays NORMAL) | ${f(normal.perLog)} | ${f(full.perLog)} | ${(full.perLog / normal.perLog).toFixed(2)}x |`,
    '',
  ]);
}

await runBench(main, cleanups);
