// npm run bench:ingest (also run by npm run bench), after `npm run build`: issue 13's table.
// autopull beside two baselines measured in the same run on this machine:
//   - adnanh/webhook (Debian's `webhook`, Go) with an equivalent hooks.json: an HMAC-SHA256
//     rule on X-Hub-Signature-256 and a ref rule;
//   - the floor: a bare fastify route that only reads the body and answers (bench/floor.mjs).
// (a) a signed GitHub push to an untracked ref, (b) the same with a bad signature, (c) a signed
// push to an unknown repo (hook id): wrk, CONNECTIONS connections, SECONDS s per run, RUNS
// runs taken in turn, medians. Then memory (VmRSS idle, VmHWM after the loads), cold start
// (spawn to first accepted connection, median of COLD), push to served in restart mode against
// the hand-run script (bench/restart-mode.ts), and a burst of 50 pushes in 2 s.
// Writes its section of docs/BENCHMARKS.md. BENCH_INGEST_SECONDS, BENCH_INGEST_RUNS,
// BENCH_INGEST_ROUNDS and BENCH_INGEST_THREADS change the counts for a quick look.
// BENCH_INGEST_ONLY=served runs only push to served (and its step table), printed, not written.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { databasePath } from '../src/daemon/paths.js';
import { loadConfig } from '../src/config/load.js';
import { freePort } from '../test/helpers/app.js';
import { CLI } from '../test/helpers/cli.js';
import { git } from '../test/helpers/git.js';
import { githubDelivery, githubPush, signGithub } from '../test/helpers/github.js';
import { makeProject, type Project } from '../test/helpers/project.js';
import { tempDir } from '../test/helpers/tmp.js';
import { runBench, writeSection } from './report.js';
import { burst, killApp, maxDelivery, pushToServed, writeScripts, type Burst, type Served } from './restart-mode.js';
import { cpuMs, memory, spawnListening, type Listening } from './serve.js';
import { haveWrk, nodeLoad, wrk, type LoadResult, type LoadSpec } from './wrk.js';

const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_INGEST_RUNS ?? 3);
const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 15);
const ONLY_SERVED = process.env.BENCH_INGEST_ONLY === 'served';
const THREADS = Number(process.env.BENCH_INGEST_THREADS ?? 1);
const CONNECTIONS = 50;
const COLD = 10;
const FLOOR = new URL('./floor.mjs', import.meta.url).pathname;

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

type Case = 'a' | 'b' | 'c';
type Who = 'webhook' | 'autopull' | 'floor';
const CASES: Record<Case, string> = {
  a: 'signed push, untracked ref',
  b: 'bad signature',
  c: 'unknown repo (hook id)',
};

interface Servers {
  autopull: Listening;
  webhook: Listening;
  floor: Listening;
}

// The floods run with `limits: { rate: off }`: they measure what the hook path costs; with the
// limits on, wrk's one address is answered 429 after a few failures (b, c) or 600 deliveries
// a minute (a). Push to served and the burst run with the default limits (RATE_OFF removed).
const RATE_OFF = '\nlimits: { rate: off }';

/** The project: repo `site` with a restart command (restart mode), on a fixed port so a connect finds it. */
function project(dir: string, appPort: number): { p: Project; port: Promise<number>; handRun: string } {
  const scripts = writeScripts(dir);
  const p = makeProject(t, { restart: `sh ${scripts.restart} ${appPort} ${join(dir, 'autopull-app.pid')}` });
  cleanups.push(() => killApp(join(dir, 'autopull-app.pid')));
  const port = freePort().then((port) => {
    writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}${RATE_OFF}`));
    return port;
  });
  return { p, port, handRun: scripts.handRun };
}

/** hooks.json for adnanh/webhook: `site` (the flood's hook) and `deploy` (runs the hand-run script). */
function webhookHooks(dir: string, p: Project, handRun: string, wc: string, appPort: number, pidFile: string): string {
  const sig = { match: { type: 'payload-hmac-sha256', secret: p.secret, parameter: { source: 'header', name: 'X-Hub-Signature-256' } } };
  const ref = { match: { type: 'value', value: 'refs/heads/main', parameter: { source: 'payload', name: 'ref' } } };
  const hooks = [
    { id: 'site', 'execute-command': '/bin/true', 'trigger-rule': { and: [sig, ref] } },
    {
      id: 'deploy',
      'execute-command': '/bin/sh',
      'command-working-directory': wc,
      'pass-arguments-to-command': [handRun, String(appPort), pidFile].map((name) => ({ source: 'string', name })),
      'trigger-rule': { and: [sig, ref] },
    },
  ];
  const file = join(dir, 'hooks.json');
  writeFileSync(file, JSON.stringify(hooks, null, 2));
  return file;
}

function starters(configFile: string, hooksFile: string, ports: Record<Who, number>) {
  const env = { AUTOPULL_LOG_LEVEL: 'info' };
  return {
    autopull: () => spawnListening(process.execPath, [CLI, 'serve', '-c', configFile], ports.autopull, cleanups, { env }),
    webhook: () => spawnListening('webhook', ['-hooks', hooksFile, '-ip', '127.0.0.1', '-port', String(ports.webhook)], ports.webhook, cleanups),
    floor: () => spawnListening(process.execPath, [FLOOR, String(ports.floor)], ports.floor, cleanups),
  };
}

function specs(p: Project, ports: Record<Who, number>): Record<Who, Partial<Record<Case, LoadSpec>>> {
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/untracked', after: 'a'.repeat(40), cloneUrl: p.remote }), p.secret);
  const bad = { ...d.headers, 'x-hub-signature-256': signGithub(d.body, 'not-the-secret') };
  const spec = (port: number, path: string, headers: Record<string, string>): LoadSpec => ({
    url: `http://127.0.0.1:${port}${path}`, body: d.body, headers, idHeader: 'x-github-delivery', seconds: SECONDS, connections: CONNECTIONS, threads: THREADS,
  });
  const both = (port: number) => ({ a: spec(port, '/hooks/site', d.headers), b: spec(port, '/hooks/site', bad), c: spec(port, '/hooks/nope', d.headers) });
  return { autopull: both(ports.autopull), webhook: both(ports.webhook), floor: { a: spec(ports.floor, '/hooks/site', d.headers) } };
}

/** The status each server answers each case with (one request). */
async function statuses(all: Record<Who, Partial<Record<Case, LoadSpec>>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [who, cases] of Object.entries(all)) {
    for (const [c, s] of Object.entries(cases)) {
      const res = await fetch(s.url, { method: 'POST', headers: { ...s.headers, 'x-github-delivery': `status-${who}-${c}` }, body: s.body });
      await res.arrayBuffer();
      out[`${who}:${c}`] = res.status;
    }
  }
  return out;
}

/** A load run's result with the server's CPU time per request answered (µs), from /proc. */
type Run = LoadResult & { cpuUs: number };

/** One load run of `spec` with the CPU the server `pid` spent on it per answer. */
async function measured(spec: LoadSpec, tag: string, pid: number, dir: string, useWrk: boolean): Promise<Run> {
  const c0 = cpuMs(pid);
  const res = await (useWrk ? wrk(spec, dir, tag) : nodeLoad(spec, tag));
  return { ...res, cpuUs: ((cpuMs(pid) - c0) * 1000) / Math.max(1, res.requests) };
}

async function flood(all: Record<Who, Partial<Record<Case, LoadSpec>>>, pids: Record<Who, number>, dir: string, useWrk: boolean) {
  const results: Record<string, Run[]> = {};
  const load = (s: LoadSpec, tag: string) => (useWrk ? wrk(s, dir, tag) : nodeLoad(s, tag));
  // Warm-up: JIT and caches, not counted.
  for (const who of ['webhook', 'autopull', 'floor'] as Who[]) await load({ ...(all[who].a as LoadSpec), seconds: 2 }, `warm-${who}`);
  for (let r = 1; r <= RUNS; r++) {
    for (const c of ['a', 'b', 'c'] as Case[]) {
      for (const who of ['webhook', 'autopull', 'floor'] as Who[]) {
        const s = all[who][c];
        if (!s) continue;
        (results[`${who}:${c}`] ??= []).push(await measured(s, `r${r}-${who}-${c}`, pids[who], dir, useWrk));
      }
    }
  }
  return results;
}

/**
 * Floods (b) and (c) from wrk's one address on autopull with the default limits: past 10
 * failed authentications a minute (per address and repo) the address is answered 429,
 * each delivery still verified (b) and none written one by one; RUNS runs each, keyed
 * `limited:b` and `limited:c`.
 */
async function floodLimited(cases: Partial<Record<Case, LoadSpec>>, pid: number, dir: string, useWrk: boolean): Promise<Record<string, Run[]>> {
  const out: Record<string, Run[]> = {};
  for (let r = 1; r <= RUNS; r++) {
    for (const c of ['b', 'c'] as Case[]) (out[`limited:${c}`] ??= []).push(await measured(cases[c] as LoadSpec, `limited-r${r}-${c}`, pid, dir, useWrk));
  }
  return out;
}

function summary(rs: Run[]) {
  return {
    cpuUs: median(rs.map((r) => r.cpuUs)),
    perSecond: median(rs.map((r) => r.perSecond)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    requests: rs.reduce((a, r) => a + r.requests, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  };
}

async function coldStarts(start: () => Promise<Listening>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COLD; i++) {
    const s = await start();
    times.push(s.startMs);
    await s.stop();
  }
  return median(times);
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}x`;

async function main(): Promise<void> {
  const useWrk = haveWrk();
  const load0 = loadavg()[0] as number;
  const dir = tempDir(t, 'autopull-bench-ingest-');
  const appPorts = { autopull: await freePort(), hand: await freePort(), webhook: await freePort() };
  const { p, port, handRun } = project(dir, appPorts.autopull);
  const ports: Record<Who, number> = { autopull: await port, webhook: await freePort(), floor: await freePort() };
  const hand = { wc: join(dir, 'hand'), port: appPorts.hand, pidFile: join(dir, 'hand-app.pid') };
  const wh = { wc: join(dir, 'webhook-wc'), port: appPorts.webhook, pidFile: join(dir, 'webhook-app.pid') };
  p.pushCommit({ version: '0' });
  for (const w of [hand, wh]) {
    git(dir, 'clone', '-q', p.remote, w.wc);
    cleanups.push(() => killApp(w.pidFile));
  }
  const hooksFile = webhookHooks(dir, p, handRun, wh.wc, wh.port, wh.pidFile);
  const start = starters(p.configFile, hooksFile, ports);
  const dbFile = databasePath(loadConfig(p.configFile));
  if (ONLY_SERVED) {
    writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace(RATE_OFF, ''));
    const [auto, webhook] = [await start.autopull(), await start.webhook()];
    const served = await pushToServed(restartWays(p, ports, appPorts.autopull, hand, wh, handRun), ROUNDS);
    await auto.stop();
    await webhook.stop();
    console.log(servedLines(served).join('\n'));
    return;
  }

  // 1. the flood, with memory before and after
  const servers: Servers = { autopull: await start.autopull(), webhook: await start.webhook(), floor: await start.floor() };
  await delay(1000);
  const idle = { autopull: memory(servers.autopull.pid), webhook: memory(servers.webhook.pid), floor: memory(servers.floor.pid) };
  const all = specs(p, ports);
  const status = await statuses(all);
  const before = maxDelivery(dbFile);
  const results = await flood(all, { autopull: servers.autopull.pid, webhook: servers.webhook.pid, floor: servers.floor.pid }, dir, useWrk);
  const peak = { autopull: memory(servers.autopull.pid), webhook: memory(servers.webhook.pid), floor: memory(servers.floor.pid) };
  for (const s of Object.values(servers)) await s.stop();
  const recorded = maxDelivery(dbFile) - before;

  // 2. cold start, each server in turn
  const cold = { autopull: await coldStarts(start.autopull), webhook: await coldStarts(start.webhook), floor: await coldStarts(start.floor) };

  // 3. restart mode: push to served, then the burst, with the default rate limits
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace(RATE_OFF, ''));
  const auto = await start.autopull();
  const webhook = await start.webhook();
  const ways = restartWays(p, ports, appPorts.autopull, hand, wh, handRun);
  const served = await pushToServed(ways, ROUNDS);
  const b = await burst(ways, dbFile);
  // 4. floods (b) and (c) again, with the default limits: what a server exposed as installed answers
  const limited = await floodLimited(all.autopull, auto.pid, dir, useWrk);
  await auto.stop();
  await webhook.stop();

  report({ useWrk, load0, status, results: { ...results, ...limited }, recorded, idle, peak, cold, served, burst: b });
}

type AppWay = { wc: string; port: number; pidFile: string };
function restartWays(p: Project, ports: Record<Who, number>, appPort: number, hand: AppWay, wh: AppWay, handRun: string) {
  const webhook = { url: `http://127.0.0.1:${ports.webhook}/hooks/deploy`, port: wh.port, pidFile: wh.pidFile };
  return { p, autopullUrl: `http://127.0.0.1:${ports.autopull}`, autopullPort: appPort, hand, webhook, handRun };
}

interface Figures {
  useWrk: boolean;
  load0: number;
  status: Record<string, number>;
  results: Record<string, Run[]>;
  recorded: number;
  idle: Record<Who, { rss: number; peak: number }>;
  peak: Record<Who, { rss: number; peak: number }>;
  cold: Record<Who, number>;
  served: Served;
  burst: Burst;
}

function report(f: Figures): void {
  const cpu = cpus();
  const s = (k: string) => summary(f.results[k] ?? []);
  const floor = s('floor:a');
  const rows = (['a', 'b', 'c'] as Case[]).map((c) => {
    const w = s(`webhook:${c}`);
    const a = s(`autopull:${c}`);
    return `| (${c}) ${CASES[c]} | ${f0(w.perSecond)}/s, p99 ${f1(w.p99)} ms, ${f.status[`webhook:${c}`]}, ${f0(w.cpuUs)} µs | ${f0(a.perSecond)}/s (**${ratio(a.perSecond, w.perSecond)}**), p99 ${f1(a.p99)} ms (${ratio(a.p99, w.p99)}), ${f.status[`autopull:${c}`]}, ${f0(a.cpuUs)} µs (${ratio(a.cpuUs, w.cpuUs)}) | ${ratio(a.perSecond, floor.perSecond)} |`;
  });
  const answered = (['a', 'b', 'c'] as Case[]).reduce((n, c) => n + s(`autopull:${c}`).requests, 0);
  const errors = Object.keys(f.results).reduce((n, k) => n + s(k).errors, 0);
  const mib = (m: { rss: number; peak: number }, key: 'rss' | 'peak') => f1(m[key]);
  const b = f.burst;
  writeSection('BENCHMARKS.md', [
    '## Ingest: autopull beside adnanh/webhook (issue 13)',
    '',
    `Run with \`npm run bench:ingest\` (after \`npm run build\`; part of \`npm run bench\`) on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}; adnanh/webhook ${webhookVersion()}.`,
    `Load: ${f.useWrk ? `wrk, ${THREADS} thread(s)` : 'a Node loop on undici (wrk is not installed: apt-get install wrk)'}, ${CONNECTIONS} connections, ${SECONDS} s per run, ${RUNS} runs taken in turn (after 2 s of warm-up each), medians; load generator and servers share the machine's ${cpu.length} cores (1-minute load average ${f1(f.load0)} at the start, ${f1(loadavg()[0] as number)} at the end).`,
    `Body: a signed GitHub push (GitHub's own example, ${Buffer.byteLength(JSON.stringify(githubPush({ after: 'a'.repeat(40), cloneUrl: '' }))) } bytes), a fresh X-GitHub-Delivery per request. autopull runs with its default log level (info: one line per delivery, to /dev/null), default retention and \`limits: { rate: off }\` (with the rate limits on, wrk's one address is answered 429 after 10 failed authentications a minute, or 600 deliveries; the last two rows of the table, push to served and the burst below run with them on, as installed); webhook with its defaults (no -verbose).`,
    '',
    '| case | adnanh/webhook: rate, p99, status, CPU per request | autopull: rate (vs webhook), p99 (vs webhook), status, CPU per delivery (vs webhook) | autopull\'s rate vs the floor |',
    '| --- | --- | --- | --- |',
    ...rows,
    `| the floor: bare fastify, body read, \`{"ok":true}\` | | ${f0(floor.perSecond)}/s, p99 ${f1(floor.p99)} ms, ${f0(floor.cpuUs)} µs | 1.00x |`,
    ...(['b', 'c'] as Case[]).map((c) => {
      const w = s(`webhook:${c}`);
      const a = s(`limited:${c}`);
      return `| (${c}) ${CASES[c]}, autopull with its default limits (\`limits.rate\` as installed: the first 10 a minute answered ${f.status[`autopull:${c}`]}, then 429) | ${f0(w.perSecond)}/s, p99 ${f1(w.p99)} ms (webhook has no limits) | ${f0(a.perSecond)}/s (**${ratio(a.perSecond, w.perSecond)}**), p99 ${f1(a.p99)} ms (${ratio(a.p99, w.p99)}), 429, ${f0(a.cpuUs)} µs (${ratio(a.cpuUs, w.cpuUs)}) | ${ratio(a.perSecond, floor.perSecond)} |`;
    }),
    '',
    "CPU per request: the server's user + system time over the run (all its threads, from /proc/PID/stat) divided by the answers counted. webhook (Go) spreads its work over both cores; autopull and the floor (Node) answer on one thread, which bounds their rate at about 1 s / CPU per request.",
    '',
    `Ledger: ${f.recorded} deliveries recorded by autopull for ${answered} answers counted by the load generator (the rest were in flight when a run ended, or status probes), ${errors} socket errors or timeouts in all.`,
    '',
    '| | adnanh/webhook | the floor | autopull | autopull vs webhook |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| RSS idle (VmRSS after start) | ${mib(f.idle.webhook, 'rss')} MiB | ${mib(f.idle.floor, 'rss')} MiB | ${mib(f.idle.autopull, 'rss')} MiB | ${ratio(f.idle.autopull.rss, f.idle.webhook.rss)} |`,
    `| RSS peak under the loads (VmHWM) | ${mib(f.peak.webhook, 'peak')} MiB | ${mib(f.peak.floor, 'peak')} MiB | ${mib(f.peak.autopull, 'peak')} MiB | ${ratio(f.peak.autopull.peak, f.peak.webhook.peak)} |`,
    `| cold start: spawn to first accepted connection, median of ${COLD} | ${f0(f.cold.webhook)} ms | ${f0(f.cold.floor)} ms | ${f0(f.cold.autopull)} ms | ${ratio(f.cold.autopull, f.cold.webhook)} |`,
    '',
    ...servedLines(f.served),
    `Burst: ${b.pushes} pushes in ${b.seconds.toFixed(2)} s (main moved and a signed delivery sent every ${f0((2000) / b.pushes)} ms): ${b.deploys} deploys (${b.jobs} jobs; pushes during a job coalesce into one follow-up), all done ${f0(b.settledMs)} ms after the first push; the last deploy's commit ${b.finalShaOk ? 'is' : '**is not**'} the last pushed, the app ${b.served ? 'serves' : '**does not serve**'} its version; ${b.recorded} of ${b.pushes} deliveries recorded.`,
    '',
  ]);
}

/** Push to served: the table of the three ways, then where autopull's time went. */
function servedLines(served: Served): string[] {
  const med = { autopull: median(served.autopull), hand: median(served.hand), webhook: median(served.webhook) };
  return [
    `Push to served in restart mode (\`deploy.restart\`: a script that stops the fixture app and starts it again; no health check): from the delivery POST, or the start of the hand-run script (\`git fetch\` + \`git reset --hard origin/main\` + the same restart script), until the app answers the new version on its port; ${ROUNDS} rounds each way, taken in turn, medians.`,
    '',
    '| way | median | min | max | vs hand-run |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...(['hand', 'webhook', 'autopull'] as const).map((k) => {
      const xs = served[k];
      const name = { hand: 'hand-run fetch + reset + restart', webhook: 'adnanh/webhook running the hand-run script', autopull: 'autopull (fetch, new release, switch, restart)' }[k];
      return `| ${name} | ${f0(med[k])} ms | ${f0(Math.min(...xs))} ms | ${f0(Math.max(...xs))} ms | ${ratio(med[k], med.hand)} |`;
    }),
    '',
    'Where autopull\'s time went (ms after the delivery POST, medians over the rounds; job and log times are wall clock to the ms):',
    '',
    '| mark | median | the step took (median) |',
    '| --- | ---: | ---: |',
    ...timeline(served.marks),
    '',
  ];
}

/** The median of each mark over the rounds, earliest first; for a step's "done", the median time it took. */
function timeline(rounds: [string, number][][]): string[] {
  const first = rounds[0];
  if (!first) return [];
  const at = (r: [string, number][], n: string) => r.find(([m]) => m === n)?.[1];
  return first
    .map(([n]) => {
      const med = median(rounds.map((r) => at(r, n)).filter((x): x is number => x !== undefined));
      const step = n.endsWith(' done') ? n.slice(0, -' done'.length) : null;
      const took = step ? rounds.map((r) => (at(r, n) ?? NaN) - (at(r, `${step} started`) ?? NaN)).filter(Number.isFinite) : [];
      return { med, row: `| ${n} | ${f0(med)} ms | ${took.length ? `${f0(median(took))} ms` : ''} |` };
    })
    .sort((a, b) => a.med - b.med)
    .map((r) => r.row);
}

function webhookVersion(): string {
  try {
    return /version (\S+)/.exec(execFileSync('webhook', ['-version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

await runBench(main, cleanups);
