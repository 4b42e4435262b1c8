// node --import tsx bench/hook-profile.ts [a|b|c] (after `npm run build`): one ingest case of
// bench/ingest.ts against the built server, with wrk (50 connections, SECS s, default 5): the
// rate, p99, the server's CPU per request (/proc) and its peak RSS. With PROF=1 the server runs
// with --cpu-prof and the top files and functions by self time are printed.
// (a) a signed push to an untracked ref, (b) a bad signature, (c) an unknown repo.
import { writeFileSync, readFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnServe } from '../bench/serve.js';
import { wrk } from '../bench/wrk.js';
import { githubDelivery, githubPush, signGithub } from '../test/helpers/github.js';
const which = process.argv[2] ?? 'a';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
writeFileSync(join(dir, 'autopull.yml'), `data_dir: ./data\nlisten: 127.0.0.1:0\nlimits: { rate: off }\nrepos:\n  site: { url: ./remote.git, secret: s3cret, deploy: { path: ./srv } }\n`);
const cleanups: (() => unknown)[] = [];
const s = await spawnServe(join(dir, 'autopull.yml'), cleanups, { logLevel: 'info', nodeArgs: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`] : [] });
const d = githubDelivery('push', githubPush({ ref: 'refs/heads/untracked', after: 'a'.repeat(40), cloneUrl: 'x' }), 's3cret');
const headers = which === 'b' ? { ...d.headers, 'x-hub-signature-256': signGithub(d.body, 'wrong') } : d.headers;
const path = which === 'c' ? '/hooks/nope' : '/hooks/site';
const cpu = () => { const f = readFileSync(`/proc/${s.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const spec = { url: s.url + path, body: d.body, headers, idHeader: 'x-github-delivery', seconds: Number(process.env.SECS ?? 5), connections: 50, threads: 1 };
await wrk({ ...spec, seconds: 2 }, dir, 'warm');
// The main thread alone (its task's stat): the ledger writer runs on a thread of its own.
const mainCpu = () => { const f = readFileSync(`/proc/${s.pid}/task/${s.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const c0 = cpu(), m0 = mainCpu();
const r = await wrk(spec, dir, 'run');
const c1 = cpu(), m1 = mainCpu();
const st = readFileSync(`/proc/${s.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)![1];
console.log(which, Math.round(r.perSecond), '/s p99', r.p99, 'ms, cpu µs/req', Math.round((c1 - c0) * 1000 / r.requests), 'main', Math.round((m1 - m0) * 1000 / r.requests), 'non2xx', r.non2xx, 'hwm MiB', (Number(st)/1024).toFixed(0));
await s.stop();
try {
if (process.env.PROF) {
  // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>): the main thread's (0) sorts first.
  const f = readdirSync(join(dir, 'prof')).sort()[0]!;
  const p = JSON.parse(readFileSync(join(dir, 'prof', f), 'utf8'));
  const self = new Map<number, number>();
  const dt = p.timeDeltas as number[];
  p.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    const cf = n.callFrame;
    const file = (cf.url as string).replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/\/work\/main\//, '');
    const k = `${cf.functionName || '(anon)'} ${file}:${cf.lineNumber}`;
    byFn.set(k, (byFn.get(k) ?? 0) + t);
    const fk = file.split('/').slice(0, file.startsWith('nm/') ? 2 : 3).join('/');
    byFile.set(fk, (byFile.get(fk) ?? 0) + t);
  }
  const total = [...byFn.values()].reduce((a, b) => a + b, 0);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}% ${k}`).join('\n');
  console.log(top(byFile, 25)); console.log('---'); console.log(top(byFn, 40));
}
} finally {
  rmSync(dir, { recursive: true, force: true });
}
