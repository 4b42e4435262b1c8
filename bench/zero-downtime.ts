// node --import tsx bench/zero-downtime.ts, after `npm run build` (also run by `npm run bench`):
// issue 10's benchmark of `deploy.proxy`, every figure from one run, against the fixture app
// (test/fixtures/app/server.mjs) deployed by a real `autopull serve` from signed GitHub
// deliveries:
//  1. paced keep-alive load through the proxy across DEPLOYS deploys;
//  2. the same load and deploys with `port` (stop, then start, on one port; no proxy);
//  3. one release whose /healthz answers 500, under load;
//  4. kill -9 of serve under load, a new serve, one more deploy;
//  5. the proxy's cost: the same app straight on its own port vs through the proxy;
//  6. push-to-live through the proxy vs a hand-run fetch + reset + restart.
// Writes docs/BENCHMARKS-zero-downtime.md. For a quicker look (not for the report): BENCH_ZD_DEPLOYS,
// BENCH_ZD_PORT_DEPLOYS, BENCH_ZD_ROUNDS set the counts; BENCH_ZD_LOG=1 prints one push-to-live
// job's log. Every loop is bounded in count and time; every process (serve, the runtime, the
// apps, the load) and temp dir goes at the end, even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { run } from '../src/lib/exec.js';
import { RuntimeClient } from '../src/runtime/client.js';
import type { RuntimeStatus } from '../src/runtime/protocol.js';
import { runtimePaths } from '../src/runtime/runtime.js';
import { api, waitForJob, type ApiJob } from '../test/helpers/api.js';
import { APP, APP_START, freePort, servesVersion } from '../test/helpers/app.js';
import { serve, type Served } from '../test/helpers/cli.js';
import { git } from '../test/helpers/git.js';
import { deliverPush } from '../test/helpers/github.js';
import { makeProject, type Project } from '../test/helpers/project.js';
import { pacedLoad, type LoadRecord, type Sample } from './paced-load.js';
import { load as closedLoad } from './proxy.js';
import { stopRuntime } from '../test/helpers/runtime.js';
import { runBench, writeReport } from './report.js';
import { seen } from './restart-mode.js';

const RATE = 200;
const DEPLOYS = Number(process.env.BENCH_ZD_DEPLOYS ?? 20);
const PORT_DEPLOYS = Number(process.env.BENCH_ZD_PORT_DEPLOYS ?? DEPLOYS);
const ROUNDS = Number(process.env.BENCH_ZD_ROUNDS ?? 9);
/** Load before the first deploy and between deploys: the "between deploys" latencies. */
const IDLE_MS = 1000;
const LOAD_MAX_MS = 10 * 60_000;
const LOAD_MAX_REQUESTS = RATE * 600;
const JOB_TIMEOUT_MS = 120_000;
const SETTINGS = { min_uptime: '200ms', stop_timeout: '2s', drain_timeout: '2s', probation: '1s', health: '{ url: /healthz, timeout: 5s, interval: 50ms }' };

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
const now = () => performance.timeOrigin + performance.now();

/** A project of the fixture app: behind a proxy on `proxyPort`, or on `port` alone. */
function project(where: { proxy: number } | { port: number }): Project {
  const s = SETTINGS;
  const place = 'proxy' in where ? `proxy: 127.0.0.1:${where.proxy}\n      drain_timeout: ${s.drain_timeout}` : `port: ${where.port}`;
  const p = makeProject(t, {
    deployYaml: `      start: ${JSON.stringify(APP_START)}\n      ${place}\n      min_uptime: ${s.min_uptime}\n      stop_timeout: ${s.stop_timeout}\n      probation: ${s.probation}\n      health: ${s.health}\n`,
  });
  // Registered after the project's temp dir: cleanups run last first, so the runtime stops before its folder goes.
  cleanups.push(() => stopRuntime(p.dataDir));
  return p;
}


async function runtimeStatus(dataDir: string): Promise<RuntimeStatus> {
  const c = await RuntimeClient.connect(runtimePaths(dataDir).socket);
  try {
    return await c.request('status', {}, 10_000);
  } finally {
    c.close();
  }
}

/** The runtime's open file descriptors, resident memory and instances, and the app processes running from the project's releases (Linux /proc): a leak across deploys shows here. */
async function runtimeUse(p: Project): Promise<{ fds: number; rssMiB: number; instances: number; apps: number }> {
  const st = await runtimeStatus(p.dataDir);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${st.pid}/status`, 'utf8'))?.[1];
  const apps = readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(APP) && readlinkSync(`/proc/${pid}/cwd`).startsWith(p.deployPath);
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  }).length;
  return { fds: readdirSync(`/proc/${st.pid}/fd`).length, rssMiB: Number(rss) / 1024, instances: st.instances.length, apps };
}

/** Waits (bounded) until the runtime runs `n` instances: the retired one has drained and stopped. */
async function settled(dataDir: string, n = 1): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await runtimeStatus(dataDir)).instances.length > n) {
    if (Date.now() > until) throw new Error(`the runtime still runs more than ${n} instance(s) after 30 s`);
    await delay(20);
  }
}

interface Deployed {
  from: number;
  to: number;
  job: ApiJob;
}

/** Commits `files`, delivers the push signed, waits for its job: the window is from the POST to the job's end. */
async function deploy(s: Served, p: Project, files: Record<string, string>): Promise<Deployed> {
  const sha = p.pushCommit(files);
  const from = now();
  const r = await deliverPush(s.url, p, sha);
  if (r.status !== 202 || !r.job) throw new Error(`delivery answered ${r.status}: ${JSON.stringify(r.body)}`);
  const job = await waitForJob(s.url, p.token, r.job, JOB_TIMEOUT_MS);
  return { from, to: now(), job };
}

function succeeded(d: Deployed): Deployed {
  if (d.job.state !== 'succeeded') throw new Error(`job ${d.job.id} ${d.job.state}: ${d.job.failure ?? ''} ${d.job.reason ?? ''}`);
  return d;
}

// ---- figures ----

const ok = (x: Sample) => x.status >= 200 && x.status < 300;
function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}
const median = (xs: number[]) => pct(xs, 0.5);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const ms0 = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : 'n/a');

interface Counts {
  total: number;
  failed: number;
  non2xx: number;
  late: number;
  full: number;
  rps: number;
  errors: string;
}

function counts(r: LoadRecord): Counts {
  const s = r.samples;
  const span = s.length > 1 ? (s[s.length - 1]!.at - s[0]!.at) / 1000 : 0;
  const errors = Object.entries(r.errors).map(([m, n]) => `${n}× ${m}`).join('; ');
  return { total: s.length, failed: s.filter((x) => x.status === 0).length, non2xx: s.filter((x) => x.status !== 0 && !ok(x)).length, late: r.late, full: r.full, rps: span ? s.length / span : 0, errors };
}

const inside = (x: Sample, ws: Deployed[]) => ws.some((w) => x.at >= w.from && x.at <= w.to);
function latency(s: Sample[]): { n: number; p50: number; p99: number } {
  const ms = s.filter(ok).map((x) => x.ms);
  return { n: ms.length, p50: pct(ms, 0.5), p99: pct(ms, 0.99) };
}

/** Per deploy: from the first failed request (sent) to the first answered one sent after the last failure; 0 when none failed. */
function downtimes(r: LoadRecord, ws: Deployed[]): number[] {
  return ws.map((w) => {
    const bad = r.samples.filter((x) => !ok(x) && x.at >= w.from && x.at <= w.to);
    if (bad.length === 0) return 0;
    const first = bad[0]!.at;
    const last = bad[bad.length - 1]!.at;
    const back = r.samples.find((x) => ok(x) && x.at > last);
    return (back?.at ?? w.to) - first;
  });
}

// ---- scenarios ----

interface UnderDeploys {
  load: Counts;
  deploys: number;
  seconds: number;
  during: ReturnType<typeof latency>;
  between: ReturnType<typeof latency>;
  down: number[];
  /** Per deploy: requests sent in its window that failed or were not 2xx. */
  lost: number[];
}

/** Load on `port` for IDLE_MS, then `n` deploys with IDLE_MS of load after each. */
async function deploysUnderLoad(s: Served, p: Project, port: number, n: number, tag: string): Promise<UnderDeploys> {
  const l = await pacedLoad(`http://127.0.0.1:${port}/`, { rate: RATE, maxMs: LOAD_MAX_MS, maxRequests: LOAD_MAX_REQUESTS });
  cleanups.push(() => l.kill());
  const t0 = now();
  const ws: Deployed[] = [];
  await delay(IDLE_MS);
  for (let i = 1; i <= n; i++) {
    ws.push(succeeded(await deploy(s, p, { version: `${tag}${i}`, health: 'ok' })));
    await servesVersion(port, new RegExp(`^version ${tag}${i} `), 10_000);
    await delay(IDLE_MS);
  }
  const seconds = (now() - t0) / 1000;
  const r = await l.stop();
  return {
    load: counts(r),
    deploys: n,
    seconds,
    during: latency(r.samples.filter((x) => inside(x, ws))),
    between: latency(r.samples.filter((x) => !inside(x, ws))),
    down: downtimes(r, ws),
    lost: ws.map((w) => r.samples.filter((x) => !ok(x) && x.at >= w.from && x.at <= w.to).length),
  };
}

/** A release whose /healthz answers 500, deployed under load; then a good one. */
async function unhealthyUnderLoad(s: Served, p: Project, port: number) {
  const l = await pacedLoad(`http://127.0.0.1:${port}/`, { rate: RATE, maxMs: LOAD_MAX_MS, maxRequests: LOAD_MAX_REQUESTS });
  cleanups.push(() => l.kill());
  await delay(IDLE_MS);
  const bad = await deploy(s, p, { version: 'unhealthy', health: 'bad' });
  if (bad.job.state !== 'failed') throw new Error(`the unhealthy release's job ${bad.job.state}`);
  await delay(IDLE_MS);
  succeeded(await deploy(s, p, { version: 'healthy', health: 'ok' }));
  await servesVersion(port, /^version healthy /, 10_000);
  const r = await l.stop();
  return { load: counts(r), failure: bad.job.failure ?? '', seconds: (bad.to - bad.from) / 1000, answeredByBad: r.samples.filter((x) => x.version === 'version unhealthy').length };
}

/** kill -9 of serve under load, a new serve (it re-attaches), one more deploy. */
async function killServeUnderLoad(s: Served, p: Project, port: number) {
  const l = await pacedLoad(`http://127.0.0.1:${port}/`, { rate: RATE, maxMs: LOAD_MAX_MS, maxRequests: LOAD_MAX_REQUESTS });
  cleanups.push(() => l.kill());
  await delay(IDLE_MS);
  await s.kill9();
  const s2 = await serve(p.configFile, t);
  await s2.waitFor(/re-attached/);
  succeeded(await deploy(s2, p, { version: 'after-kill', health: 'ok' }));
  await servesVersion(port, /^version after-kill /, 10_000);
  await delay(IDLE_MS);
  const r = await l.stop();
  return { s2, load: counts(r) };
}

/** The proxy's cost: paced (latency at RATE) and closed-loop (most req/s), straight to the routed instance's port vs through the proxy. */
async function overhead(p: Project, proxyPort: number) {
  const st = await runtimeStatus(p.dataDir);
  const appPort = st.instances.find((i) => i.routed)?.port;
  if (!appPort) throw new Error(`no routed instance: ${JSON.stringify(st)}`);
  const paced = async (port: number) => {
    const l = await pacedLoad(`http://127.0.0.1:${port}/`, { rate: RATE, maxMs: 20_000, maxRequests: RATE * 20 });
    cleanups.push(() => l.kill());
    await delay(5000);
    const r = await l.stop();
    return { ...latency(r.samples.slice(RATE / 2)), c: counts(r) };
  };
  const rows = [];
  for (const [name, port] of [['direct', appPort], ['proxy', proxyPort]] as const) rows.push({ name, paced: await paced(port) });
  const closed = [];
  for (const connections of [1, 16]) {
    await closedLoad(appPort, connections, 500);
    const direct = await closedLoad(appPort, connections, 3000);
    await closedLoad(proxyPort, connections, 500);
    const proxied = await closedLoad(proxyPort, connections, 3000);
    closed.push({ connections, direct, proxied });
  }
  return { paced: rows, closed };
}

// ---- push-to-live ----


interface LogLine {
  ts: string;
  stream: string;
  line: string;
}

/** A step's name as a short key: its first word, and the second when it is a plain word (release names, ports and shas vary). */
function stepKey(name: string): string {
  const [a = '', b = ''] = name.split(' ');
  return (/^[a-z]+:?$/.test(b) && !a.endsWith(':') ? `${a} ${b}` : a).replace(/:$/, '');
}

/** One push through autopull: from the delivery POST to the new version through the proxy; and where the job's time went. */
async function autopullRound(s: Served, p: Project, proxyPort: number, v: string) {
  const sha = p.pushCommit({ version: v, health: 'ok' });
  const t0 = now();
  const r = await deliverPush(s.url, p, sha);
  const answered = now();
  const live = await seen(proxyPort, v);
  const job = await waitForJob(s.url, p.token, r.job, JOB_TIMEOUT_MS);
  if (job.state !== 'succeeded') throw new Error(`push-to-live job ${job.id} ${job.state}: ${job.reason ?? ''}`);
  const full = await api<{ job: ApiJob & { created_at: string; started_at: string } }>(s.url, p.token, `/api/jobs/${job.id}`);
  const { lines } = await api<{ lines: LogLine[] }>(s.url, p.token, `/api/jobs/${job.id}/log`);
  // Marks relative to the POST, in ms (job and log times are wall clock, ms precision).
  const rel = (iso: string) => Date.parse(iso) - t0;
  const marks: [string, number][] = [
    ['delivery answered', answered - t0],
    ['job created', rel(full.job.created_at)],
    ['job started', rel(full.job.started_at)],
  ];
  for (const l of lines) {
    if (l.stream === 'step') marks.push([`${stepKey(l.line)} started`, rel(l.ts)]);
    const done = /^(.*): done in (\d+)ms$|^(.*): done in (\d+(?:\.\d+)?)s$/.exec(l.line);
    if (l.stream === 'info' && done) marks.push([`${stepKey(done[1] ?? done[3]!)} done`, rel(l.ts)]);
  }
  marks.push(['new version served through the proxy', live - t0]);
  await settled(p.dataDir);
  return { ms: live - t0, marks, log: lines };
}

/** The hand-run way: in a working copy, git fetch + reset --hard, kill the app, start it again, wait until it answers. */
async function handRound(wc: string, app: { proc: ChildProcess }, port: number, p: Project, v: string) {
  p.pushCommit({ version: v, health: 'ok' });
  const t0 = now();
  const marks: [string, number][] = [];
  const mark = (name: string) => marks.push([name, now() - t0]);
  await run('git', ['fetch', '-q', 'origin'], { cwd: wc });
  mark('git fetch done');
  await run('git', ['reset', '-q', '--hard', 'origin/main'], { cwd: wc });
  mark('git reset --hard done');
  const exited = once(app.proc, 'exit');
  app.proc.kill('SIGTERM');
  await exited;
  mark('old app exited');
  app.proc = startApp(wc, port);
  mark('new app spawned');
  const ms = (await seen(port, v)) - t0;
  marks.push(['new version served on its port', ms]);
  return { ms, marks };
}

function startApp(cwd: string, port: number): ChildProcess {
  const proc = spawn(process.execPath, [APP], { cwd, env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  return proc;
}

/** ROUNDS pushes each way, taken in turn (so drift on a shared machine hits both alike). */
async function pushToLive(s: Served, p: Project, proxyPort: number) {
  const wc = join(p.dir, 'hand');
  git(p.dir, 'clone', '-q', p.remote, wc);
  const port = await freePort();
  const app = { proc: startApp(wc, port) };
  cleanups.push(() => app.proc.exitCode === null && app.proc.signalCode === null && app.proc.kill('SIGKILL'));
  await servesVersion(port, /^version /, 10_000);
  const auto: Awaited<ReturnType<typeof autopullRound>>[] = [];
  const hand: Awaited<ReturnType<typeof handRound>>[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    auto.push(await autopullRound(s, p, proxyPort, `live${i}`));
    hand.push(await handRound(wc, app, port, p, `hand${i}`));
  }
  return { auto, hand };
}

/** The median of each mark (ms after the start) over the rounds, earliest first; for a step's "done", the median time it took. */
function timeline(rounds: { marks: [string, number][] }[]): string[] {
  const at = (r: { marks: [string, number][] }, n: string) => r.marks.find(([m]) => m === n)?.[1];
  const rows = rounds[0]!.marks.map(([n]) => {
    const vals = rounds.map((r) => at(r, n)).filter((x): x is number => x !== undefined);
    const step = n.endsWith(' done') ? n.slice(0, -' done'.length) : null;
    const took = step ? rounds.map((r) => (at(r, n) ?? NaN) - (at(r, `${step} started`) ?? NaN)).filter(Number.isFinite) : [];
    return { n, med: median(vals), row: `| ${n} | ${ms0(median(vals))} | ${ms0(Math.min(...vals))} – ${ms0(Math.max(...vals))} | ${took.length ? ms0(median(took)) : ''} |` };
  });
  return rows.sort((a, b) => a.med - b.med).map((r) => r.row);
}

// ---- the run ----

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  const loadStart = loadavg()[0]!;
  const proxyPort = await freePort();
  const p = project({ proxy: proxyPort });
  let s = await serve(p.configFile, t);
  succeeded(await deploy(s, p, { version: 'first', health: 'ok' }));
  await servesVersion(proxyPort, /^version first /);
  await settled(p.dataDir);

  console.error('5. proxy overhead');
  const cost = await overhead(p, proxyPort);
  console.error(`1. ${DEPLOYS} deploys behind the proxy under load`);
  const useBefore = await runtimeUse(p);
  const proxied = await deploysUnderLoad(s, p, proxyPort, DEPLOYS, 'p');
  await settled(p.dataDir);
  const useAfter = await runtimeUse(p);

  console.error(`2. ${PORT_DEPLOYS} deploys with port (stop, then start) under load`);
  const appPort = await freePort();
  const q = project({ port: appPort });
  const sq = await serve(q.configFile, t);
  succeeded(await deploy(sq, q, { version: 'first', health: 'ok' }));
  await servesVersion(appPort, /^version first /);
  const portMode = await deploysUnderLoad(sq, q, appPort, PORT_DEPLOYS, 'q');
  await sq.stop();

  console.error('3. an unhealthy release under load');
  const unhealthy = await unhealthyUnderLoad(s, p, proxyPort);
  await settled(p.dataDir);
  console.error('4. kill -9 of serve under load');
  const killed = await killServeUnderLoad(s, p, proxyPort);
  s = killed.s2;
  await settled(p.dataDir);
  console.error(`6. push-to-live, ${ROUNDS} rounds each way`);
  const ptl = await pushToLive(s, p, proxyPort);

  const cpu = cpus();
  const lc = (name: string, c: Counts) => `| ${name} | ${c.total} | ${c.failed} | ${c.non2xx} | ${c.late} / ${c.full} | ${f1(c.rps)} |`;
  const autoMed = median(ptl.auto.map((r) => r.ms));
  const handMs = ptl.hand.map((r) => r.ms);
  const handMed = median(handMs);
  const lines = [
    '# Zero-downtime benchmark (`deploy.proxy`)',
    '',
    `Run with \`node --import tsx bench/zero-downtime.ts\` (after \`npm run build\`; part of \`npm run bench\`) on ${date}:`,
    `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}.`,
    `Every figure below comes from that one run; every ratio is against a baseline measured in it. The machine is shared: its 1-minute load average was ${f2(loadStart)} at the start and ${f2(loadavg()[0]!)} at the end, so latencies (p99 most) and times carry noise.`,
    '',
    `The app is the test fixture (test/fixtures/app/server.mjs: a node HTTP server answering \`version N release DIR\`),`,
    'deployed by a real `autopull serve` from signed GitHub push deliveries (each deploy a new commit; the bench waits',
    'for each job to end). Repo settings: ' + Object.entries(SETTINGS).map(([k, v]) => `\`${k}: ${v}\``).join(', ') + '.',
    `Load: GET / at a steady ${RATE} req/s (paced, open loop: a slow answer does not slow the pace) on kept-alive`,
    'connections (one undici Pool, up to 32), from its own process; a *failed* request is a connection error, *non-2xx* an',
    `answer other than 2xx, *not sent* a paced slot skipped because the load process fell over 100 ms behind (late; the machine was busy) or 256 requests were open (full). ${IDLE_MS} ms of load`,
    'before the first deploy and after each: "between deploys". "During a deploy" is from the delivery POST to the job\'s end.',
    '',
    '## Deploys under load',
    '',
    '| scenario | requests | failed | non-2xx | not sent: late / full | req/s sent |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    lc(`1. behind the proxy: ${proxied.deploys} deploys in ${f1(proxied.seconds)} s`, proxied.load),
    lc(`2. \`port\` (stop, then start; no proxy): ${portMode.deploys} deploys in ${f1(portMode.seconds)} s`, portMode.load),
    lc(`3. behind the proxy: one release whose /healthz answers 500 (job failed: ${unhealthy.failure}), then a good one`, unhealthy.load),
    lc('4. behind the proxy: kill -9 of `autopull serve`, a new serve (re-attached), one more deploy', killed.load),
    '',
    `Connection errors: 1: ${proxied.load.errors || 'none'}; 2: ${portMode.load.errors || 'none'}; 3: ${unhealthy.load.errors || 'none'}; 4: ${killed.load.errors || 'none'}.`,
    '',
    `3: requests answered by the unhealthy release: **${unhealthy.answeredByBad}** (its job took ${f1(unhealthy.seconds)} s to fail: the health timeout).`,
    '',
    '| latency of answered requests | behind the proxy: p50 | p99 | n | `port`: p50 | p99 | n |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| between deploys | ${f2(proxied.between.p50)} ms | ${f2(proxied.between.p99)} ms | ${proxied.between.n} | ${f2(portMode.between.p50)} ms | ${f2(portMode.between.p99)} ms | ${portMode.between.n} |`,
    `| during deploys | ${f2(proxied.during.p50)} ms | ${f2(proxied.during.p99)} ms | ${proxied.during.n} | ${f2(portMode.during.p50)} ms | ${f2(portMode.during.p99)} ms | ${portMode.during.n} |`,
    `| during / between | ${f2(proxied.during.p50 / proxied.between.p50)}x | ${f2(proxied.during.p99 / proxied.between.p99)}x | | ${f2(portMode.during.p50 / portMode.between.p50)}x | ${f2(portMode.during.p99 / portMode.between.p99)}x | |`,
    '',
    `Requests lost (failed or non-2xx) per deploy: \`port\` median ${median(portMode.lost)}, max ${Math.max(...portMode.lost)}; behind the proxy median ${median(proxied.lost)}, max ${Math.max(...proxied.lost)}.`,
    `Downtime per deploy (from the first failed request to the first answered one sent after the last failure), \`port\`: median ${ms0(median(portMode.down))}, max ${ms0(Math.max(...portMode.down))}, ${portMode.down.filter((d) => d > 0).length} of ${portMode.deploys} deploys; behind the proxy: median ${ms0(median(proxied.down))}, max ${ms0(Math.max(...proxied.down))}, ${proxied.down.filter((d) => d > 0).length} of ${proxied.deploys} deploys.`,
    '',
    `The runtime (proxy and app supervisor) before and after the ${proxied.deploys} deploys of 1, once the last old instance had stopped: ${useBefore.fds} → ${useAfter.fds} open file descriptors, ${f1(useBefore.rssMiB)} → ${f1(useAfter.rssMiB)} MiB resident, ${useBefore.instances} → ${useAfter.instances} instance(s), ${useBefore.apps} → ${useAfter.apps} app process(es) running from the releases.`,
    '',
    '## Proxy overhead (5)',
    '',
    'The same running release, straight on its own port (from the runtime\'s status) vs through the proxy.',
    `Paced: ${RATE} req/s for 5 s (the first half second left out). Closed loop: bench/proxy.ts's load, each connection sending`,
    'its next request when the last is answered, 3 s after a 0.5 s warm-up.',
    '',
    '| path | load | requests | req/s | p50 ms | p99 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...cost.paced.map((r) => `| ${r.name === 'direct' ? 'direct to the app' : 'through the proxy'} | paced ${RATE} req/s | ${r.paced.c.total} | ${f1(r.paced.c.rps)} | ${f2(r.paced.p50)} | ${f2(r.paced.p99)} |`),
    `| proxy / direct | paced | | | ${f2(cost.paced[1]!.paced.p50 / cost.paced[0]!.paced.p50)}x | ${f2(cost.paced[1]!.paced.p99 / cost.paced[0]!.paced.p99)}x |`,
    ...cost.closed.flatMap((c) => [
      `| direct to the app | closed loop, ${c.connections} conn. | ${c.direct.count} | ${Math.round(c.direct.rps)} | ${f2(c.direct.p50)} | ${f2(c.direct.p99)} |`,
      `| through the proxy | closed loop, ${c.connections} conn. | ${c.proxied.count} | ${Math.round(c.proxied.rps)} | ${f2(c.proxied.p50)} | ${f2(c.proxied.p99)} |`,
      `| proxy / direct | closed loop, ${c.connections} conn. | | ${f2(c.proxied.rps / c.direct.rps)}x | ${f2(c.proxied.p50 / c.direct.p50)}x | ${f2(c.proxied.p99 / c.direct.p99)}x |`,
    ]),
    '',
    '## Push-to-live (6)',
    '',
    'From the delivery POST to the new version answering through the proxy, vs a hand-run script in a working copy',
    '(`git fetch` + `git reset --hard origin/main`, SIGTERM the app and wait for its exit, start it again, wait until',
    `it answers the new version on its port). ${ROUNDS} rounds each, taken in turn; both poll every 2 ms on a kept-alive connection.`,
    '',
    '| way | median | min | max |',
    '| --- | ---: | ---: | ---: |',
    `| autopull, behind the proxy | ${ms0(autoMed)} | ${ms0(Math.min(...ptl.auto.map((r) => r.ms)))} | ${ms0(Math.max(...ptl.auto.map((r) => r.ms)))} |`,
    `| hand-run fetch + reset + restart | ${ms0(handMed)} | ${ms0(Math.min(...handMs))} | ${ms0(Math.max(...handMs))} |`,
    `| autopull / hand-run | ${f2(autoMed / handMed)}x | | |`,
    '',
    'Where autopull\'s time goes (ms after the delivery POST; median over the rounds, then min – max; from the job\'s',
    'record and its log lines, whose times are wall clock to the millisecond):',
    '',
    '| mark | median | range | the step took (median) |',
    '| --- | ---: | ---: | ---: |',
    ...timeline(ptl.auto),
    '',
    'The hand-run script\'s time, the same way (ms after it starts):',
    '',
    '| mark | median | range | |',
    '| --- | ---: | ---: | ---: |',
    ...timeline(ptl.hand),
    '',
  ];
  writeReport('BENCHMARKS-zero-downtime.md', lines);
  if (process.env.BENCH_ZD_LOG) console.error(ptl.auto[0]!.log.map((l) => `${l.ts} ${l.stream} ${l.line}`).join('\n'));
}

await runBench(main, cleanups);
