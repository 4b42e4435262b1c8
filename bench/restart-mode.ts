// Restart mode (`deploy.restart`, no supervisor, no proxy) for the ingest benchmark:
//  - push to served: from the delivery POST (or the script's start) until the app answers the
//    new version on its port, for autopull, the hand-run script (git fetch + reset --hard +
//    restart) and adnanh/webhook running that same script; ROUNDS rounds, taken in turn;
//  - a burst of 50 pushes in 2 s to autopull: deploys, final sha, deliveries recorded.
// The app is the test fixture (test/fixtures/app/server.mjs); every way restarts it with the
// same script (RESTART below). Bounded: every wait has a deadline.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { run } from '../src/lib/exec.js';
import { api, type ApiJob } from '../test/helpers/api.js';
import { APP } from '../test/helpers/app.js';
import { commit, git } from '../test/helpers/git.js';
import { githubDelivery, githubPush } from '../test/helpers/github.js';
import type { Project } from '../test/helpers/project.js';

const now = () => performance.timeOrigin + performance.now();

/**
 * `restart.sh PORT PIDFILE`: stops the app whose pid is in PIDFILE (SIGTERM, then waits until
 * it is gone or a zombie: nothing reaps orphans here), starts it again from the current folder.
 */
export function writeScripts(dir: string): { restart: string; handRun: string } {
  const restart = join(dir, 'restart.sh');
  writeFileSync(
    restart,
    `port=$1; pidfile=$2
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  while [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do sleep 0.002; done
fi
PORT=$port nohup ${JSON.stringify(process.execPath)} ${JSON.stringify(APP)} >/dev/null 2>&1 &
echo $! > "$pidfile"
`,
  );
  const handRun = join(dir, 'hand-run.sh');
  writeFileSync(handRun, `set -e\ngit fetch -q origin\ngit reset -q --hard origin/main\nexec sh ${JSON.stringify(restart)} "$1" "$2"\n`);
  chmodSync(restart, 0o755);
  chmodSync(handRun, 0o755);
  return { restart, handRun };
}

/** Kills the app whose pid is in `pidFile`, if any. */
export function killApp(pidFile: string): void {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
  } catch {
    // never started, or gone
  }
}

/** Polls `port` (every 2 ms, kept alive, bounded) until it answers `version V `; resolves with when. */
export async function seen(port: number, v: string, timeoutMs = 30_000): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, keepAliveTimeout: 10_000 });
  const until = Date.now() + timeoutMs;
  const want = `version ${v} `;
  try {
    for (;;) {
      try {
        const r = await pool.request({ path: '/', method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
        const body = await r.body.text();
        if (r.statusCode === 200 && body.startsWith(want)) return now();
      } catch {
        // between the old app's exit and the new one's listen
      }
      if (Date.now() > until) throw new Error(`port ${port} never served ${want}`);
      await delay(2);
    }
  } finally {
    await pool.close();
  }
}

export interface Ways {
  p: Project;
  autopullUrl: string;
  autopullPort: number;
  /** A working clone run by hand, its app's port and pid file. */
  hand: { wc: string; port: number; pidFile: string };
  /** adnanh/webhook: its URL for the deploy hook, and the app its script restarts. */
  webhook: { url: string; port: number; pidFile: string };
  handRun: string;
}

/** POSTs a signed push of `sha`; resolves with the first job of autopull's answer (webhook's has none). */
async function deliver(url: string, p: Project, sha: string): Promise<number | undefined> {
  const d = githubDelivery('push', githubPush({ after: sha, cloneUrl: p.remote }), p.secret);
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${text}`);
  try {
    return (JSON.parse(text) as { jobs?: number[] }).jobs?.[0];
  } catch {
    return undefined;
  }
}

/** A step's short name: its first word, or its first two when the second is a plain word ("wait healthy"). */
function stepKey(name: string): string {
  const [a = '', b = ''] = name.split(' ');
  return (/^[a-z]+:?$/.test(b) && !a.endsWith(':') ? `${a} ${b}` : a).replace(/:$/, '');
}

/** Where an autopull round's time went: ms after the POST (wall clock, ms precision) of the job's marks and steps. */
async function marks(url: string, token: string, job: number, t0Wall: number, answered: number, served: number): Promise<[string, number][]> {
  const full = await api<{ job: { created_at: string; started_at: string; finished_at: string } }>(url, token, `/api/jobs/${job}`);
  const { lines } = await api<{ lines: { ts: string; stream: string; line: string }[] }>(url, token, `/api/jobs/${job}/log`);
  const rel = (iso: string) => Date.parse(iso) - t0Wall;
  const out: [string, number][] = [['delivery answered', answered], ['job created', rel(full.job.created_at)], ['job started', rel(full.job.started_at)]];
  for (const l of lines) {
    if (l.stream === 'step') out.push([`${stepKey(l.line)} started`, rel(l.ts)]);
    const done = /^(.*): done in (\d+)ms$|^(.*): done in (\d+(?:\.\d+)?)s$/.exec(l.line);
    if (l.stream === 'info' && done) out.push([`${stepKey(done[1] ?? (done[3] as string))} done`, rel(l.ts)]);
  }
  out.push(['new version served', served], ['job finished', rel(full.job.finished_at)]);
  return out;
}

/** ROUNDS pushes each way, in turn; ms from the trigger to the new version served. */
export interface Served {
  autopull: number[];
  hand: number[];
  webhook: number[];
  /** Per autopull round: [mark, ms after the POST]. */
  marks: [string, number][][];
}

export async function pushToServed(w: Ways, rounds: number): Promise<Served> {
  const out: Served = { autopull: [], hand: [], webhook: [], marks: [] };
  for (let i = 1; i <= rounds; i++) {
    let v = `a${i}`;
    let sha = w.p.pushCommit({ version: v });
    let t0 = now();
    const t0Wall = Date.now();
    const job = await deliver(`${w.autopullUrl}/hooks/site`, w.p, sha);
    const answered = now() - t0;
    const served = (await seen(w.autopullPort, v)) - t0;
    out.autopull.push(served);
    await jobsIdle(w.autopullUrl, w.p.token);
    if (job !== undefined) out.marks.push(await marks(w.autopullUrl, w.p.token, job, t0Wall, answered, served));

    v = `h${i}`;
    w.p.pushCommit({ version: v });
    t0 = now();
    await run('sh', [w.handRun, String(w.hand.port), w.hand.pidFile], { cwd: w.hand.wc });
    out.hand.push((await seen(w.hand.port, v)) - t0);

    v = `w${i}`;
    sha = w.p.pushCommit({ version: v });
    t0 = now();
    await deliver(w.webhook.url, w.p, sha);
    out.webhook.push((await seen(w.webhook.port, v)) - t0);
  }
  return out;
}

/** Waits (bounded) until no job of the server is queued or running. */
async function jobsIdle(url: string, token: string, timeoutMs = 60_000): Promise<ApiJob[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { jobs } = await api<{ jobs: ApiJob[] }>(url, token, '/api/jobs?limit=200');
    if (!jobs.some((j) => j.state === 'queued' || j.state === 'running')) return jobs;
    if (Date.now() > until) throw new Error(`jobs still running after ${timeoutMs} ms`);
    await delay(20);
  }
}

export interface Burst {
  pushes: number;
  seconds: number;
  deploys: number;
  jobs: number;
  finalShaOk: boolean;
  served: boolean;
  recorded: number;
  settledMs: number;
}

/**
 * 50 commits prepared, then in 2 s: the remote's main moved to each in turn (update-ref,
 * 40 ms apart) with a signed delivery for each. Then: how many deploys ran, whether `current`
 * is the last commit and the app serves it, how many of the 50 deliveries the ledger holds.
 */
export async function burst(w: Ways, dbFile: string, n = 50, spanMs = 2000): Promise<Burst> {
  const shas: string[] = [];
  for (let i = 1; i <= n; i++) {
    shas.push(commit(w.p.work, { version: `b${i}` }, `burst ${i}`));
  }
  // The objects go up first, on a ref autopull does not fetch: the burst only moves main.
  git(w.p.work, 'push', '-q', 'origin', `HEAD:refs/bench/burst`);
  const before = maxDelivery(dbFile);
  const jobsBefore = (await api<{ jobs: ApiJob[] }>(w.autopullUrl, w.p.token, '/api/jobs?limit=200')).jobs.map((j) => j.id);
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * spanMs) / n - now();
    if (wait > 0) await delay(wait);
    const sha = shas[i] as string;
    execFileSync('git', ['--git-dir', w.p.remote, 'update-ref', 'refs/heads/main', sha]);
    await deliver(`${w.autopullUrl}/hooks/site`, w.p, sha);
  }
  const seconds = (now() - t0) / 1000;
  const jobs = (await jobsIdle(w.autopullUrl, w.p.token)).filter((j) => !jobsBefore.includes(j.id));
  const settledMs = now() - t0;
  const last = shas.at(-1) as string;
  const served = await seen(w.autopullPort, `b${n}`, 10_000).then(() => true, () => false);
  const deployed = jobs.filter((j) => j.state === 'succeeded' && j.release !== null);
  const finalSha = [...deployed].sort((a, b) => b.id - a.id)[0]?.target_sha;
  return { pushes: n, seconds, deploys: deployed.length, jobs: jobs.length, finalShaOk: finalSha === last, served, recorded: maxDelivery(dbFile) - before, settledMs };
}

/** The newest delivery row's id: rows are never renumbered, so its growth counts the inserts. */
export function maxDelivery(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COALESCE(MAX(id), 0) FROM deliveries').pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
}
