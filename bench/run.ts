// npm run bench: measures what users feel, on this machine, and writes docs/BENCHMARKS.md.
//  1. push-to-live of the demo app: `git push` (whose hook sends the signed delivery) until the
//     site serves the new version;
//  2. deliveries/s for pushes to an untracked ref (verify, record in SQLite, answer 200).
// Every loop is bounded in count and time; all servers listen on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDemo } from '../src/demo/demo.js';
import { run } from '../src/lib/exec.js';
import { makeProject } from '../test/helpers/project.js';
import { githubDelivery, githubPush } from '../test/helpers/github.js';

import { runBench, writeReport } from './report.js';
import { spawnServe } from './serve.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { n: s.length, median: at(0.5), p90: at(0.9), max: s[s.length - 1] as number };
}

async function pushToLive(rounds: number) {
  const demo = await startDemo({ out: () => {} });
  const work = join(demo.dir, 'work');
  const times: number[] = [];
  try {
    for (let v = 2; v < 2 + rounds; v++) {
      writeFileSync(join(work, 'version.txt'), `${v}\n`);
      execFileSync('git', ['commit', '-qam', `version ${v}`], { cwd: work });
      const t0 = performance.now();
      // Async: the server answering the hook runs in this process.
      await run('git', ['push', '-q'], { cwd: work });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await fetch(`${demo.siteUrl}version.json`).then((x) => (x.ok ? (x.json() as Promise<{ version: string }>) : null));
        if (r?.version === String(v)) break;
        if (Date.now() > deadline) throw new Error(`version ${v} never went live`);
        await delay(2);
      }
      times.push(performance.now() - t0);
    }
  } finally {
    await demo.close();
  }
  return stats(times);
}

async function untrackedDeliveries(total: number, concurrency: number) {
  const p = makeProject(t);
  const server = await spawnServe(p.configFile, cleanups);
  const url = server.url;
  const payload = githubPush({ ref: 'refs/heads/untracked', after: 'a'.repeat(40), cloneUrl: p.remote });
  let sent = 0;
  let non200 = 0;
  const deadline = Date.now() + 60_000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total && Date.now() < deadline) {
        sent++;
        const d = githubDelivery('push', payload, p.secret);
        const res = await fetch(`${url}/hooks/site`, { method: 'POST', headers: d.headers, body: d.body });
        await res.arrayBuffer();
        if (res.status !== 200) non200++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await server.stop();
  return { sent, non200, seconds, perSecond: sent / seconds, bodyBytes: githubDelivery('push', payload, p.secret).body.length };
}

async function main() {
  const live = await pushToLive(10);
  const flood = await untrackedDeliveries(3000, 16);
  const cpu = cpus();
  const lines = [
    '# Benchmarks',
    '',
    `Run with \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}.`,
    '',
    '| measure | result |',
    '| --- | --- |',
    `| push-to-live, demo app (\`git push\` → hook → signed delivery → fetch → build with node → switch → site serves the new version), ${live.n} pushes | median ${live.median.toFixed(0)} ms, p90 ${live.p90.toFixed(0)} ms, max ${live.max.toFixed(0)} ms |`,
    `| signed GitHub push deliveries to an untracked ref (verified, recorded in SQLite, answered 200), ${flood.sent} deliveries of ${flood.bodyBytes} bytes, 16 concurrent connections | ${flood.perSecond.toFixed(0)} deliveries/s (${flood.non200} non-200) |`,
    '',
  ];
  writeReport('BENCHMARKS.md', lines, { keepSections: true });
}

await runBench(main, cleanups);
