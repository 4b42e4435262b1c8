// node --import tsx bench/proxy.ts: what the deploy.proxy forwarding engine costs. A small app
// and the proxy each run in their own process on 127.0.0.1; this process is the load: C
// kept-alive connections (an undici Pool), each sending its next request as soon as the last
// one is answered, for a bounded time and count, first straight to the app, then through the
// proxy. Prints a markdown table (req/s, p50, p99, and proxy/direct ratios).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createProxy } from '../src/proxy/index.js';
import { runBench } from './report.js';

const DURATION_MS = Number(process.env.BENCH_PROXY_MS ?? 3000);
const MAX_REQUESTS = 300_000;
const WARMUP_MS = 500;
const BODY = JSON.stringify({ ok: true, message: 'hello from the app', pad: 'x'.repeat(64) });

/** Child mode: `app` serves a small JSON answer; `proxy APP_PORT` forwards to it. Each prints its port. */
async function child(mode: string, arg?: string): Promise<void> {
  process.once('SIGTERM', () => process.exit(0)); // a normal exit: --cpu-prof writes its profile
  if (mode === 'app') {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
    return;
  }
  const proxy = createProxy({ keepAliveTimeoutMs: 60_000 });
  const { port } = await proxy.listen('127.0.0.1', 0);
  proxy.route({ id: 'app', port: Number(arg) }, { drainMs: 0 });
  console.log(JSON.stringify({ port }));
}

const children: ChildProcess[] = [];
const cleanups: (() => unknown)[] = [() => children.forEach((c) => c.kill())];

function start(...args: string[]): Promise<number> {
  const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    c.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)));
    c.stdout?.once('data', (d: Buffer) => resolve((JSON.parse(String(d)) as { port: number }).port));
  });
}

export interface Result {
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/** `connections` loops on one kept-alive pool for `ms` (and MAX_REQUESTS at most); latencies in ms. Also used by bench/zero-downtime.ts. */
export async function load(port: number, connections: number, ms: number): Promise<Result> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const until = t0 + ms;
  const worker = async () => {
    while (performance.now() < until && latencies.length + errors < MAX_REQUESTS) {
      const s = performance.now();
      try {
        const r = await pool.request({ path: '/', method: 'GET' });
        await r.body.text();
        if (r.statusCode === 200) latencies.push(performance.now() - s);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = performance.now() - t0;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { count: latencies.length, errors, rps: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const appPort = await start('app');
  const proxyPort = await start('proxy', String(appPort));
  const rows: string[] = [];
  for (const connections of [1, 32]) {
    await load(appPort, connections, WARMUP_MS);
    const direct = await load(appPort, connections, DURATION_MS);
    await load(proxyPort, connections, WARMUP_MS);
    const proxied = await load(proxyPort, connections, DURATION_MS);
    const f = (n: number) => n.toFixed(2);
    rows.push(`| direct to the app | ${connections} | ${direct.count} | ${direct.errors} | ${Math.round(direct.rps)} | ${f(direct.p50)} | ${f(direct.p99)} |`);
    rows.push(`| through the proxy | ${connections} | ${proxied.count} | ${proxied.errors} | ${Math.round(proxied.rps)} | ${f(proxied.p50)} | ${f(proxied.p99)} |`);
    rows.push(`| proxy / direct | ${connections} | | | ${f(proxied.rps / direct.rps)}x | ${f(proxied.p50 / direct.p50)}x | ${f(proxied.p99 / direct.p99)}x |`);
  }
  console.log(
    [
      `## Proxy forwarding (bench/proxy.ts)`,
      '',
      `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Linux ${release()}. App, proxy and load each in their own process on 127.0.0.1; GET of a ${Buffer.byteLength(BODY)}-byte JSON answer on kept-alive connections, ${DURATION_MS} ms per row after a ${WARMUP_MS} ms warm-up.`,
      '',
      '| path | connections | requests | errors | req/s | p50 ms | p99 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n'),
  );
}

// Run as a script (not imported for `load`): the bench itself, or one of its children.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, arg] = process.argv.slice(2);
  if (mode) await child(mode, arg);
  else await runBench(main, cleanups);
}
