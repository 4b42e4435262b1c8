// HTTP load for the ingest benchmark: wrk (Debian's `wrk`) with a Lua script that POSTs one
// body with fixed headers and a fresh delivery id per request (a repeated id would be a
// duplicate, not the case measured). Without wrk, a bounded Node loop on undici stands in
// (much slower as a client: its figures are said to come from it). Every run is bounded by
// its duration; wrk's own timeout is 5 s per request.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { run } from '../src/lib/exec.js';

export interface LoadSpec {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Header that gets a fresh value per request (the delivery id). */
  idHeader?: string;
  seconds: number;
  connections: number;
  threads: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx/3xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
}

export function haveWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return (err as { status?: number }).status === 1;
  }
}

/** A Lua long string: any bytes, no escapes. */
function luaString(s: string): string {
  let level = '';
  while (s.includes(`]${level}]`)) level += '=';
  return `[${level}[${s}]${level}]`;
}

/** The Lua script for `spec`, written into `dir`. */
export function luaScript(dir: string, spec: LoadSpec, tag: string): string {
  const lines = [
    'wrk.method = "POST"',
    `wrk.body = ${luaString(spec.body)}`,
    ...Object.entries(spec.headers).filter(([k]) => k !== spec.idHeader).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    'local thread_no = 0',
    'function setup(thread) thread_no = thread_no + 1; thread:set("tid", thread_no) end',
    'local n = 0',
  ];
  if (spec.idHeader) {
    lines.push(`function request() n = n + 1; wrk.headers[${JSON.stringify(spec.idHeader)}] = "${tag}-" .. tostring(tid) .. "-" .. n; return wrk.format() end`);
  }
  const file = join(dir, `${tag}.lua`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk latency "${text}" not understood`);
  return Number(m[1]) * (UNIT[m[2] as string] as number);
}

export function parseWrk(out: string): LoadResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const pct = (p: string) => ms(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? 'NaN');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const requests = num(/(\d+) requests in/);
  if (!Number.isFinite(requests)) throw new Error(`wrk output not understood:\n${out}`);
  return {
    requests,
    perSecond: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct('50'),
    p99: pct('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** One load run with wrk (`dir`: where its script goes, `tag`: names the script and the ids). */
export async function wrk(spec: LoadSpec, dir: string, tag: string): Promise<LoadResult> {
  const script = luaScript(dir, spec, tag);
  const res = await run('wrk', ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${spec.seconds}s`, '--timeout', '5s', '--latency', '-s', script, spec.url], {
    timeoutMs: (spec.seconds + 30) * 1000,
  });
  return parseWrk(res.stdout);
}

/** The fallback without wrk: `connections` undici connections in a closed loop for `seconds`. */
export async function nodeLoad(spec: LoadSpec, tag: string): Promise<LoadResult> {
  const u = new URL(spec.url);
  const pool = new Pool(u.origin, { connections: spec.connections, pipelining: 1 });
  const lat: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let n = 0;
  const end = performance.now() + spec.seconds * 1000;
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: spec.connections }, async () => {
      while (performance.now() < end) {
        const headers = spec.idHeader ? { ...spec.headers, [spec.idHeader]: `${tag}-${++n}` } : spec.headers;
        const s = performance.now();
        try {
          const r = await pool.request({ path: u.pathname, method: 'POST', headers, body: spec.body, headersTimeout: 5000, bodyTimeout: 5000 });
          await r.body.dump();
          if (r.statusCode >= 400) non2xx++;
          lat.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }));
  } finally {
    await pool.close();
  }
  lat.sort((a, b) => a - b);
  const at = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;
  return { requests: lat.length, perSecond: lat.length / ((performance.now() - t0) / 1000), p50: at(0.5), p99: at(0.99), non2xx, errors };
}
