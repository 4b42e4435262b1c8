// node --import tsx bench/dashboard.ts: the dashboard with 50 repos and 10,000 jobs in the
// database (seeded through the Store): page weight and server time of the overview and a job
// page, first contentful paint in Debian's chromium, and the delay from a log line a build
// writes to the line shown on the job page. Writes its section of docs/BENCHMARKS.md (the
// other sections stay as they are). Bounded: fixed counts, every wait has a timeout.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../src/http/app.js';
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/store.js';
import { Worker } from '../src/runner/worker.js';
import { silentLogger } from '../src/lib/log.js';
import { makeProject, type Project } from '../test/helpers/project.js';
import { launchBrowser, logIn, newPage } from '../test/helpers/dashboard.js';
import { login } from '../test/helpers/dashboard-http.js';
import { runBench } from './report.js';

const REPOS = 50;
const JOBS = 10_000;
const LOG_LINES_ON_PAGE = 300;
const REQUESTS = 30;
const PAINTS = 10;
const MARKS = 50;
const cleanups: (() => unknown)[] = [];
const shim = { after: (fn: () => unknown) => cleanups.push(fn) };

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** The project's repo `site` (a real remote; its build waits for a file, then writes timed lines) and 49 more repos. */
function project(go: string): Project {
  const marks = `let i=0;const t=setInterval(()=>{console.log('mark '+i+' '+Date.now());if(++i>=${MARKS})clearInterval(t)},40)`;
  const p = makeProject(shim, { build: [`for i in $(seq 1 1200); do [ -f ${go} ] && break; sleep 0.05; done`, `node -e "${marks}"`] });
  const extra = Array.from({ length: REPOS - 1 }, (_, i) => `  repo${String(i + 1).padStart(2, '0')}:\n    url: ./remote.git\n    secret: ${p.secret}\n    deploy:\n      path: ./srv${i + 1}\n`);
  appendFileSync(p.configFile, extra.join(''));
  return p;
}

/** 10,000 finished jobs over the 50 repos, each queued by a delivery (as a push would), with a long log on one. */
function seed(store: Store, repos: string[]): number {
  const body = Buffer.alloc(6 * 1024, 'x');
  const t0 = Date.now() - JOBS * 60_000;
  let withLog = 0;
  for (let r = 0; r < repos.length; r++) {
    const repo = repos[r] as string;
    store.transaction(() => {
      for (let i = 0; i < JOBS / repos.length; i++) {
        const at = new Date(t0 + (i * repos.length + r) * 60_000).toISOString();
        const sha = (r * 1000 + i).toString(16).padStart(40, '0');
        const d = { delivery_id: `seed-${r}-${i}`, provider: 'github', event: 'push', repo, received_at: at, remote_addr: '127.0.0.1', status_code: 202, outcome: 'queued', message: `deploy queued for ${repo} refs/heads/main`, headers: { 'x-github-event': 'push', 'content-type': 'application/json' }, body, body_truncated: false };
        const [id] = store.recordDelivery(d, [{ repo, ref: 'refs/heads/main', hintSha: sha }]).jobs as [number];
        store.claim(repo, process.pid);
        store.updateJob(id, { target_sha: sha, release: i % 10 === 9 ? null : `20261101T000000-${sha.slice(0, 7)}` });
        store.finishJob(id, i % 10 === 9 ? 'failed' : 'succeeded', i % 10 === 9 ? 'npm run build: exit 1' : 'live', i % 10 === 9 ? 'build_failed' : null);
        if (r === 1 && i === 100) withLog = id;
      }
    });
  }
  store.transaction(() => {
    for (let i = 0; i < LOG_LINES_ON_PAGE; i++) store.appendLog(withLog, i % 20 === 0 ? 'step' : 'out', i % 20 === 0 ? `build ${i / 20}` : `compiled module ${i} of ${LOG_LINES_ON_PAGE} in 12 ms`);
  });
  return withLog;
}

interface Served {
  bytes: number;
  /** Bytes on the wire (compressed when the server compressed). */
  wire: number;
  gzip: number;
  encoding: string;
  median: number;
  p90: number;
}

/**
 * The page's size (the HTML, and the bytes on the wire: undici's request does not decode),
 * and the time to its whole answer over `REQUESTS` requests, as a browser asks (br, gzip).
 */
async function serve(url: string, cookie: string): Promise<Served> {
  const times: number[] = [];
  let wire = Buffer.alloc(0);
  let encoding = 'none';
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const res = await request(url, { headers: { cookie, 'accept-encoding': 'br, gzip' } });
    wire = Buffer.from(await res.body.arrayBuffer());
    times.push(performance.now() - t0);
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
    encoding = String(res.headers['content-encoding'] ?? 'none');
  }
  const html = encoding === 'br' ? brotliDecompressSync(wire) : encoding === 'gzip' ? gunzipSync(wire) : wire;
  return { bytes: html.length, wire: wire.length, gzip: gzipSync(html).length, encoding, median: quantile(times, 0.5), p90: quantile(times, 0.9) };
}

/** First contentful paint (Performance API) of `path`, loaded `PAINTS` times in one logged-in tab. */
async function paints(page: Page, url: string): Promise<{ median: number; p90: number }> {
  const fcp: number[] = [];
  for (let i = 0; i < PAINTS; i++) {
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    const v = await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime, undefined, { timeout: 10_000 });
    fcp.push((await v.jsonValue()) as number);
  }
  return { median: quantile(fcp, 0.5), p90: quantile(fcp, 0.9) };
}

/** A real deploy of `site`: its build's `mark I WRITTEN_AT` lines, timed as they appear on its job page. */
async function logDelay(page: Page, base: string, p: Project, go: string): Promise<number[]> {
  p.pushCommit({ 'index.html': 'bench' });
  const res = await fetch(`${base}/api/repos/site/simulate`, { method: 'POST', headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' }, body: '{"sender":"github","ref":"refs/heads/main"}' });
  const [job] = ((await res.json()) as { jobs: number[] }).jobs as [number];
  await page.goto(`${base}/jobs/${job}`);
  await page.locator('#log-status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
  // In the page (a string: this program's TypeScript has no DOM types): each added line with its time.
  await page.evaluate(`(() => {
    window.seen = [];
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records) for (const n of r.addedNodes) {
        const m = /mark \\d+ (\\d+)/.exec(n.textContent || '');
        if (m) window.seen.push([Number(m[1]), now]);
      }
    }).observe(document.getElementById('log'), { childList: true });
  })()`);
  writeFileSync(go, '');
  await page.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 60_000 });
  const seen = await page.evaluate<[number, number][]>('window.seen');
  if (seen.length !== MARKS) throw new Error(`saw ${seen.length} of ${MARKS} lines live`);
  return seen.map(([written, shown]) => shown - written);
}

/** Replaces (or adds) this benchmark's section of docs/BENCHMARKS.md; the other sections stay. */
function writeSection(heading: string, lines: string[]): void {
  const file = new URL('../docs/BENCHMARKS.md', import.meta.url);
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = old.indexOf(`\n${heading}\n`);
  const section = `${heading}\n\n${lines.join('\n')}\n`;
  let text: string;
  if (start === -1) text = `${old.trimEnd()}\n\n${section}`;
  else {
    const next = old.indexOf('\n## ', start + heading.length + 1);
    text = `${old.slice(0, start + 1)}${section}${next === -1 ? '' : `\n${old.slice(next + 1)}`}`;
  }
  writeFileSync(file, text);
  console.log(section);
}

async function main(): Promise<void> {
  const go = join(makeProject(shim).dir, 'go');
  const p = project(go);
  const config = loadConfig(p.configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  cleanups.push(() => store.close());
  const t0 = performance.now();
  const jobPage = seed(store, [...config.repos.keys()]);
  const seedMs = performance.now() - t0;
  const worker = new Worker(config, store, silentLogger());
  const app = await buildApp({ config, store, logger: silentLogger(), kick: (r) => worker.kick(r), apiTokens: [] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    app.server.closeAllConnections();
    await app.close();
    await worker.stop();
  });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const { cookie } = await login({ url: base }, p.token);
  const overview = await serve(`${base}/`, cookie);
  const job = await serve(`${base}/jobs/${jobPage}`, cookie);
  const assets = await Promise.all(
    [...(await (await fetch(`${base}/`, { headers: { cookie } })).text()).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(async (m) => Buffer.from(await (await fetch(`${base}${m[1]}`)).arrayBuffer())),
  );
  const browser: Browser = await launchBrowser(shim);
  const page = await newPage(browser);
  await logIn(page, base, p.token, '/');
  const overviewPaint = await paints(page, `${base}/`);
  const jobPaint = await paints(page, `${base}/jobs/${jobPage}`);
  const delays = await logDelay(page, base, p, go);

  const assetBytes = assets.reduce((n, b) => n + b.length, 0);
  const assetGzip = assets.reduce((n, b) => n + gzipSync(b).length, 0);
  const row = (name: string, s: Served, f: { median: number; p90: number }) =>
    `| ${name} | ${kib(s.bytes)} of HTML (${s.encoding === 'none' ? `served uncompressed; ${kib(s.gzip)} gzipped` : `${kib(s.wire)} on the wire, ${s.encoding}`}) | ${ms(s.median)} / ${ms(s.p90)} | ${ms(f.median)} / ${ms(f.p90)} |`;
  writeSection('## Dashboard', [
    `Run with \`npm run bench:dashboard\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, Debian's chromium (headless); load average ${loadavg()[0]?.toFixed(1)} when it ended (the machine is shared: a busy one stretches every time here).`,
    `The database holds ${REPOS} repos and ${JOBS.toLocaleString('en')} finished jobs (each queued by a delivery with a 6 KiB body), seeded through the Store in ${(seedMs / 1000).toFixed(1)} s; the job page shown has ${LOG_LINES_ON_PAGE} log lines. Server time: the whole answer to a logged-in fetch on 127.0.0.1, ${REQUESTS} requests; first contentful paint: the Performance API's \`first-contentful-paint\`, ${PAINTS} loads in one tab (script and stylesheet cached after the first).`,
    '',
    '| page | weight | server time, median / p90 | first contentful paint, median / p90 |',
    '| --- | --- | --- | --- |',
    row(`overview (${REPOS} repo cards, 15 recent jobs)`, overview, overviewPaint),
    row(`job page (${LOG_LINES_ON_PAGE} log lines)`, job, jobPaint),
    `| script + stylesheet (once, cached for a year) | ${kib(assetBytes)} (${kib(assetGzip)} gzipped) | | |`,
    '',
    `Live log: a real deploy of one repo whose build prints ${MARKS} lines 40 ms apart, each with the time it was written; the job page (open, following over Server-Sent Events) notes when each line is added to the page. From written to shown: median ${ms(quantile(delays, 0.5))}, p90 ${ms(quantile(delays, 0.9))}, max ${ms(Math.max(...delays))} (the line goes from the build's pipe to the job's log in SQLite, then to the event stream, then into the page).`,
  ]);
}

await runBench(main, cleanups);
