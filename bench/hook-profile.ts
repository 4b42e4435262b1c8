// node --import tsx bench/hook-profile.ts [a|b|c] (after `npm run build`): one ingest case of
// bench/ingest.ts against the built server, with wrk (50 connections, SECS s, default 5): the
// rate, p99, the server's CPU per request (/proc: all threads, and the main thread alone: the
// ledger writer runs on a thread of its own) and its peak RSS. With PROF=1 the server runs
// with --cpu-prof and the top files and functions of its main thread by self time are printed.
// (a) a signed push to an untracked ref, (b) a bad signature, (c) an unknown repo.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubDelivery, githubPush, signGithub } from '../test/helpers/github.js';
import { tempDir } from '../test/helpers/tmp.js';
import { runBench } from './report.js';
import { cpuMs, memory, spawnServe } from './serve.js';
import { wrk } from './wrk.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'a';
  const dir = tempDir(t, 'autopull-hook-profile-');
  const config = join(dir, 'autopull.yml');
  writeFileSync(config, 'data_dir: ./data\nlisten: 127.0.0.1:0\nlimits: { rate: off }\nrepos:\n  site: { url: ./remote.git, secret: s3cret, deploy: { path: ./srv } }\n');
  const s = await spawnServe(config, cleanups, { logLevel: 'info', nodeArgs: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`] : [] });
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/untracked', after: 'a'.repeat(40), cloneUrl: 'x' }), 's3cret');
  const headers = which === 'b' ? { ...d.headers, 'x-hub-signature-256': signGithub(d.body, 'wrong') } : d.headers;
  const spec = { url: s.url + (which === 'c' ? '/hooks/nope' : '/hooks/site'), body: d.body, headers, idHeader: 'x-github-delivery', seconds: Number(process.env.SECS ?? 5), connections: 50, threads: 1 };
  await wrk({ ...spec, seconds: 2 }, dir, 'warm');
  const [c0, m0] = [cpuMs(s.pid), cpuMs(s.pid, s.pid)];
  const r = await wrk(spec, dir, 'run');
  const [c1, m1] = [cpuMs(s.pid), cpuMs(s.pid, s.pid)];
  const perRequest = (ms: number) => Math.round((ms * 1000) / r.requests);
  console.log(which, Math.round(r.perSecond), '/s p99', r.p99, 'ms, cpu µs/req', perRequest(c1 - c0), 'main', perRequest(m1 - m0), 'non2xx', r.non2xx, 'hwm MiB', memory(s.pid).peak.toFixed(0));
  await s.stop();
  if (process.env.PROF) printProfile(join(dir, 'prof'));
}

/** The top files and functions by self time of the main thread's profile (CPU.<date>.<time>.<pid>.<thread>.<seq>: thread 0 sorts first). */
function printProfile(profDir: string): void {
  const p = JSON.parse(readFileSync(join(profDir, readdirSync(profDir).sort()[0] as string), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const n of p.nodes) {
    const v = self.get(n.id) ?? 0;
    const file = n.callFrame.url.replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/.*?\/dist\//, 'dist/');
    add(byFn, `${n.callFrame.functionName || '(anon)'} ${file}:${n.callFrame.lineNumber}`, v);
    add(byFile, file.split('/').slice(0, file.startsWith('nm/') ? 2 : 3).join('/'), v);
  }
  const total = [...byFn.values()].reduce((a, b) => a + b, 0);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}% ${k}`);
  console.log([...top(byFile, 25), '---', ...top(byFn, 40)].join('\n'));
}

await runBench(main, cleanups);
