// A paced keep-alive HTTP load in its own process (so the bench's own work, git and polling,
// never delays a request): GET `url` at `rate` requests/s on one undici Pool, open loop (a slow
// answer does not slow the pace), bounded by `maxMs`, `maxRequests` and MAX_IN_FLIGHT. Every
// request is recorded: when it was sent (ms since the epoch, comparable across processes),
// its latency, its status (0: a connection error) and the body's "version N" (the fixture
// app's answer). `stop()` ends the sending, waits for what is in flight and returns it all,
// in the order sent.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';

export interface Sample {
  /** When it was sent: ms since the epoch. */
  at: number;
  ms: number;
  /** The answer's status; 0 when the connection failed. */
  status: number;
  /** The body's "version N" (the fixture app), or its first 40 characters. */
  version: string;
}

export interface LoadRecord {
  samples: Sample[];
  /** Connection errors by message. */
  errors: Record<string, number>;
  /** Slots not sent because the sender fell behind by more than 100 ms (this process was not scheduled). */
  late: number;
  /** Slots not sent because MAX_IN_FLIGHT requests were open. */
  full: number;
}

const MAX_IN_FLIGHT = 256;
const now = () => performance.timeOrigin + performance.now();

/** Starts the load in a child process; `stop()` ends it and returns what it saw (the child is killed after 30 s if it hangs). */
export async function pacedLoad(url: string, o: { rate: number; maxMs: number; maxRequests: number }): Promise<{ stop(): Promise<LoadRecord>; kill(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), url, String(o.rate), String(o.maxMs), String(o.maxRequests)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  // The child says "started" once its first request is about to go.
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.startsWith('started\n') ? resolve() : undefined);
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`paced load exited before it started: ${out}`)));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    kill,
    async stop() {
      child.stdin.end();
      const timer = setTimeout(kill, 30_000);
      await exited;
      clearTimeout(timer);
      const json = out.slice('started\n'.length);
      if (!json) throw new Error('the paced load ended without a report');
      const record = JSON.parse(json) as LoadRecord;
      // Recorded as answered; in the order sent, for the figures.
      record.samples.sort((a, b) => a.at - b.at);
      return record;
    },
  };
}

/** Child side: sends until stdin ends (or a bound is reached), then prints the record as JSON. */
async function child(url: string, rate: number, maxMs: number, maxRequests: number): Promise<void> {
  const pool = new Pool(new URL(url).origin, { connections: 32, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const path = new URL(url).pathname;
  const record: LoadRecord = { samples: [], errors: {}, late: 0, full: 0 };
  let stopped = false;
  process.stdin.on('end', () => (stopped = true));
  process.stdin.resume();
  const inFlight = new Set<Promise<void>>();
  const one = async () => {
    const at = now();
    try {
      const r = await pool.request({ path, method: 'GET' });
      const body = await r.body.text();
      record.samples.push({ at, ms: now() - at, status: r.statusCode, version: /^version \S+/.exec(body)?.[0] ?? body.slice(0, 40) });
    } catch (err) {
      const msg = (err as Error).message;
      record.errors[msg] = (record.errors[msg] ?? 0) + 1;
      record.samples.push({ at, ms: now() - at, status: 0, version: '' });
    }
  };
  const interval = 1000 / rate;
  const t0 = now();
  let due = t0;
  process.stdout.write('started\n');
  for (let sent = 0; !stopped && sent < maxRequests && now() - t0 < maxMs; sent++) {
    const wait = due - now();
    if (wait > 0) await delay(wait);
    if (stopped) break;
    if (now() - due > 100) {
      // Fell behind (this process was not scheduled): skip the missed slots rather than burst.
      const missed = Math.floor((now() - due) / interval);
      record.late += missed;
      due += missed * interval;
    }
    due += interval;
    if (inFlight.size >= MAX_IN_FLIGHT) {
      record.full++;
      continue;
    }
    const p = one().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  // A bound was reached first: report when told to stop.
  if (!stopped) await once(process.stdin, 'end');
  await pool.close();
  process.stdout.write(JSON.stringify(record));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, rate, maxMs, maxRequests] = process.argv.slice(2);
  await child(url!, Number(rate), Number(maxMs), Number(maxRequests));
}
