// `npm run build && node --import tsx bench/start.ts`: autopull serve's start-up alone (issue 13:
// cold start <= 300 ms, idle RSS <= 64 MiB), quicker than bench/ingest.ts's whole run.
// COLD spawns of `node dist/cli/main.js serve -c FILE` (the project of the ingest bench: one
// repo, restart mode), each timed from spawn to the first accepted connection (spawnListening,
// as bench/ingest.ts does), then its CPU time so far (user + system: steadier than the wall
// clock on a shared machine) and VmRSS, RssAnon and RssFile 1 s after it listened; medians,
// beside the same for bench/floor.mjs (a bare fastify app). BENCH_START_NODE_ARGS adds node
// flags before the CLI (e.g. "--max-semi-space-size=1"), BENCH_START_CLI measures another build's
// dist/cli/main.js (a baseline). Prints; writes nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../test/helpers/app.js';
import { CLI } from '../test/helpers/cli.js';
import { makeProject } from '../test/helpers/project.js';
import { cpuMs, spawnListening, type Listening } from './serve.js';

const COLD = Number(process.env.BENCH_START_COUNT ?? 10);
const NODE_ARGS = (process.env.BENCH_START_NODE_ARGS ?? '').split(' ').filter(Boolean);
const FLOOR = new URL('./floor.mjs', import.meta.url).pathname;
/** Another build's CLI to measure instead (a baseline checkout's dist/cli/main.js). */
const CLI_FILE = process.env.BENCH_START_CLI ?? CLI;

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** VmRSS, RssAnon and RssFile of a process, in MiB (Linux /proc). */
function rss(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

async function measure(name: string, start: () => Promise<Listening>): Promise<void> {
  const ms: number[] = [];
  const cpu: number[] = [];
  const mem: ReturnType<typeof rss>[] = [];
  for (let i = 0; i < COLD; i++) {
    const s = await start();
    ms.push(s.startMs);
    await delay(1000);
    mem.push(rss(s.pid));
    cpu.push(cpuMs(s.pid));
    await s.stop();
  }
  const m = (k: keyof ReturnType<typeof rss>) => median(mem.map((x) => x[k])).toFixed(1);
  console.log(`${name.padEnd(9)} cold start ${median(ms).toFixed(0)} ms (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}), CPU ${median(cpu).toFixed(0)} ms; idle VmRSS ${m('rss')} MiB, RssAnon ${m('anon')}, RssFile ${m('file')} (medians of ${COLD})`);
}

async function main(): Promise<void> {
  const p = makeProject(t, { restart: 'true' });
  const port = await freePort();
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
  const env = { AUTOPULL_LOG_LEVEL: 'info' };
  await measure('autopull', () => spawnListening(process.execPath, [...NODE_ARGS, CLI_FILE, 'serve', '-c', p.configFile], port, cleanups, { env }));
  if (!process.env.BENCH_START_NO_FLOOR) await measure('floor', () => spawnListening(process.execPath, [FLOOR, String(port)], port, cleanups));
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c();
}
