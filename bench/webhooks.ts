// node --import tsx bench/webhooks.ts (after npm run build): what a flood of large deliveries that
// fail authentication costs, and whether /healthz keeps answering meanwhile. Writes
// docs/BENCHMARKS-webhooks.md.
//  1. in-process (app.inject): ms per ~1 MiB delivery and full JSON.parse calls per delivery
//     (JSON.parse is wrapped here, so the count is the same before and after a change);
//  2. the built CLI serving on 127.0.0.1: 16 connections sending 1 MiB bad-signature
//     deliveries for a few seconds while /healthz is polled.
// Every loop is bounded in count and time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/http/app.js';
import { parseConfigText } from '../src/config/load.js';
import { Store } from '../src/store/store.js';
import { silentLogger } from '../src/lib/log.js';
import { githubDelivery, githubPush, type Delivery } from '../test/helpers/github.js';
import { fixture, formDelivery, giteaLikeDelivery } from '../test/helpers/senders.js';

const SECRET = 'bench-secret-0123';
import { runBench, writeReport } from './report.js';
import { spawnServe } from './serve.js';

const cleanups: (() => unknown)[] = [];

/** ~1 MiB of small objects: slow to parse for its size, as an attacker would choose. */
function filler(bytes: number): object[] {
  return Array.from({ length: Math.ceil(bytes / 8) }, (_, i) => ({ a: i % 10 }));
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, median: at(0.5), p90: at(0.9), max: s[s.length - 1] ?? 0 };
}

// limits.rate off: this measures what verifying a delivery costs; with the limits on, a flood
// from one address is answered 429 unread after its first 10 failures.
const CONFIG = `data_dir: ./data
body_limit: 4MiB
limits: { rate: off }
repos:
  blog: { url: 'https://github.com/acme/blog.git', secret: ${SECRET}, deploy: { path: ./srv1 } }
  gitea: { url: 'http://localhost:3000/example/example.git', secret: ${SECRET}, deploy: { path: ./srv2 } }
  backlog: { url: 'https://example.backlog.com/git/PROJ/website.git', secret: ${SECRET}, deploy: { path: ./srv3 } }
`;

function cases(): [string, string, Delivery][] {
  const gh = { ...githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), filler: filler(1 << 20) };
  const gitea = { ...fixture('gitea', 'push.json'), filler: filler(450 << 10) };
  const backlog = { ...fixture('backlog', 'push.json'), filler: filler(450 << 10) };
  return [
    ['GitHub, wrong signature, /hooks/REPO', '/hooks/blog', githubDelivery('push', gh, 'wrong')],
    ['GitHub, wrong signature, /hooks', '/hooks', githubDelivery('push', gh, 'wrong')],
    ['GitHub, good signature, /hooks/REPO', '/hooks/blog', githubDelivery('push', gh, SECRET)],
    ['Gitea form body, wrong signature', '/hooks/gitea', giteaLikeDelivery('gitea', 'push', gitea, 'wrong', { form: true })],
    ['Backlog form body, wrong token', '/hooks/backlog?token=wrong', formDelivery(backlog)],
  ];
}

async function inProcess() {
  const dir = mkdtempSync(join(tmpdir(), 'autopull-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfigText(CONFIG, join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: never) => {
    if (typeof text === 'string' && text.length > 100_000) parses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  const rows: string[] = [];
  try {
    for (const [name, url, d] of cases()) {
      const n = 10;
      let status = 0;
      await app.inject({ method: 'POST', url, headers: d.headers, payload: d.body });
      parses = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const headers = { ...d.headers, 'x-github-delivery': `bench-${i}`, 'x-gitea-delivery': `bench-${i}` };
        status = (await app.inject({ method: 'POST', url, headers, payload: d.body })).statusCode;
      }
      const ms = (performance.now() - t0) / n;
      rows.push(`| ${name} (${(d.body.length / 2 ** 20).toFixed(2)} MiB) | ${status} | ${ms.toFixed(1)} ms | ${parses / n} |`);
    }
  } finally {
    JSON.parse = parse;
    await app.close();
    store.close();
  }
  return rows;
}

async function flood(seconds: number, connections: number) {
  const dir = mkdtempSync(join(tmpdir(), 'autopull-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'autopull.yml'), `listen: 127.0.0.1:0\n${CONFIG}`);
  const server = await spawnServe(join(dir, 'autopull.yml'), cleanups);
  const url = server.url;
  const d = (cases()[0] as [string, string, Delivery])[2];
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  const health: number[] = [];
  const senders = Array.from({ length: connections }, async () => {
    while (Date.now() < end) {
      const res = await fetch(`${url}/hooks/blog`, { method: 'POST', headers: d.headers, body: d.body });
      await res.arrayBuffer();
      sent++;
    }
  });
  const poll = (async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      health.push(performance.now() - t0);
    }
  })();
  await Promise.all([...senders, poll]);
  await server.stop();
  return { sent, perSecond: sent / seconds, health: stats(health) };
}

async function main() {
  const rows = await inProcess();
  const f = await flood(5, 16);
  const cpu = cpus();
  const lines = [
    '# Benchmarks: deliveries that fail authentication',
    '',
    `Run with \`npm run build && node --import tsx bench/webhooks.ts\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}.`,
    'Bodies carry ~1 MiB of small JSON objects (the costliest shape to parse for its size).',
    '',
    '| delivery (in-process, app.inject) | status | time per delivery | full JSON.parse per delivery |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `| built CLI on 127.0.0.1, ${16} connections sending 1 MiB wrong-signature deliveries for 5 s | result |`,
    '| --- | --- |',
    `| deliveries answered | ${f.sent} (${f.perSecond.toFixed(0)}/s) |`,
    `| GET /healthz latency meanwhile, ${f.health.n} requests | median ${f.health.median.toFixed(0)} ms, p90 ${f.health.p90.toFixed(0)} ms, max ${f.health.max.toFixed(0)} ms |`,
    '',
  ];
  writeReport('BENCHMARKS-webhooks.md', lines);
}

await runBench(main, cleanups);
