import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { startServer, type RunningServer } from '../daemon/start.js';
import { isFinal, type Job, type LogLine } from '../store/store.js';
import { childEnv } from '../lib/child-env.js';
import { run } from '../lib/exec.js';
import { silentLogger } from '../lib/log.js';
import { formatLogLine } from '../runner/format.js';
import { APP_FILES, hookScript } from './files.js';
import { startSite } from './site.js';

/**
 * `autopull demo`: a bare repository with a post-receive hook that signs and sends a
 * GitHub-style delivery, a small web app whose build renders its version, autopull
 * serving on loopback, and a web server whose root is the `current` link. Everything in one
 * temp folder; works offline.
 */
export interface DemoOptions {
  once?: boolean;
  keep?: boolean;
  out?: (line: string) => void;
}

export interface Demo {
  dir: string;
  apiUrl: string;
  siteUrl: string;
  token: string;
  /** Resolves with the job when the first deploy has finished. */
  first: Job;
  close(): Promise<void>;
}

async function git(args: string[], cwd: string): Promise<string> {
  const res = await run('git', args, { cwd, env: childEnv({ GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }) });
  return res.stdout + res.stderr;
}

/** The bare remote and a work tree with the app committed as "version 1"; returns the work tree. */
async function makeRepos(dir: string): Promise<string> {
  await git(['init', '--quiet', '--bare', '--initial-branch=main', 'remote.git'], dir);
  const work = join(dir, 'work');
  await git(['init', '--quiet', '--initial-branch=main', work], dir);
  for (const [name, text] of Object.entries(APP_FILES)) writeFileSync(join(work, name), text);
  await git(['-c', 'user.name=autopull demo', '-c', 'user.email=demo@autopull.invalid', 'add', '.'], work);
  await git(['config', 'user.name', 'autopull demo'], work);
  await git(['config', 'user.email', 'demo@autopull.invalid'], work);
  await git(['commit', '--quiet', '-m', 'version 1'], work);
  await git(['remote', 'add', 'origin', join(dir, 'remote.git')], work);
  return work;
}

/** Writes autopull.yml (mode 0600: it holds the secret and the token); returns its path. */
function writeDemoConfig(dir: string, secret: string, token: string): string {
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(
    configFile,
    `# written by autopull demo
listen: 127.0.0.1:0
data_dir: ./data
# Ctrl-C during a deploy: the job gets this long before the tour ends.
shutdown_grace: 5s
auth_token: ${token}
repos:
  demo:
    url: ./remote.git
    secret: ${secret}
    branches: [main]
    deploy:
      path: ./site
      build:
        - ${JSON.stringify(`"${process.execPath}" build.mjs`)}
      keep: 3
`,
    { mode: 0o600 },
  );
  return configFile;
}

/** The remote's post-receive hook, which signs and sends a delivery to `hookUrl`. */
function installHook(dir: string, hookUrl: string, secret: string): void {
  const settings = join(dir, 'hook.json');
  writeFileSync(settings, JSON.stringify({ url: hookUrl, secret, remote: join(dir, 'remote.git') }));
  const hook = join(dir, 'remote.git', 'hooks', 'post-receive');
  writeFileSync(hook, hookScript(process.execPath, settings));
  chmodSync(hook, 0o755);
}

type Cleanups = (() => Promise<void> | void)[];

/**
 * Prints every job's steps as they happen and, once a job is final, what the site serves.
 * Returns a function whose promise resolves with the next job to finish.
 */
function watchJobs(server: RunningServer, siteUrl: string, out: (line: string) => void, cleanups: Cleanups): () => Promise<Job> {
  const onLog = (l: LogLine) => out(`   job ${l.job_id} ${formatLogLine(l)}`);
  server.store.on('log', onLog);
  cleanups.push(() => void server.store.off('log', onLog));
  const finished = new Map<number, Job>();
  const waiters: ((j: Job) => void)[] = [];
  const onJob = (id: number) => {
    const job = server.store.getJob(id);
    if (!job || !isFinal(job.state) || finished.has(id)) return;
    finished.set(id, job);
    void fetch(`${siteUrl}version.json`)
      .then((r) => (r.ok ? (r.json() as Promise<{ version: string; sha: string }>) : null))
      .then((v) => {
        out(v ? `   live: version ${v.version} (commit ${v.sha.slice(0, 7)}) at ${siteUrl}` : `   job ${id} ${job.state}: ${job.reason ?? ''}`);
        for (const w of waiters.splice(0)) w(job);
      });
  };
  server.store.on('job', onJob);
  cleanups.push(() => void server.store.off('job', onJob));
  return () => new Promise<Job>((resolve) => waiters.push(resolve));
}

/** A one-time dashboard login link from the server (POST /api/login-link), or null when it cannot make one. */
async function loginLink(apiUrl: string, token: string): Promise<string | null> {
  try {
    const res = await fetch(`${apiUrl}/api/login-link`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return null;
    return ((await res.json()) as { url?: string }).url ?? null;
  } catch {
    return null;
  }
}

function printNextSteps(out: (line: string) => void, d: { siteUrl: string; apiUrl: string; token: string; link: string | null; deployPath: string; work: string; configFile: string; jobId: number }): void {
  out('');
  out(`The site:        ${d.siteUrl}`);
  out(`autopull:        ${d.apiUrl}  (API token: ${d.token})`);
  out(`Dashboard:       ${d.link ?? `${d.apiUrl}/`}  (${d.link ? 'a one-time login link, good for 10 minutes; after that ' : ''}log in with the API token)`);
  out(`Releases:        ${join(d.deployPath, 'releases')}  (current -> ${join(d.deployPath, 'current')})`);
  out('Push again:');
  out(`  cd ${d.work}`);
  out(`  echo 2 > version.txt && git commit -qam "version 2" && git push -q`);
  out(`See it:          curl ${d.siteUrl}version.json`);
  out(`Status and logs: autopull status -c ${d.configFile}   |   autopull logs ${d.jobId} -c ${d.configFile}`);
}

export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const out = opts.out ?? ((l: string) => console.log(l));
  const dir = mkdtempSync(join(tmpdir(), 'autopull-demo-'));
  const cleanups: Cleanups = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    out(`autopull demo in ${dir}`);
    out('');
    out('1. a bare repository (remote.git) and a small web app (work/)');
    const work = await makeRepos(dir);

    const secret = randomBytes(20).toString('hex');
    const token = randomBytes(24).toString('hex');
    const configFile = writeDemoConfig(dir, secret, token);
    out(`2. a config (${configFile}) and autopull serving on loopback`);
    const server: RunningServer = await startServer(loadConfig(configFile), silentLogger());
    cleanups.push(() => server.close());
    const deployPath = join(dir, 'site');
    const site = await startSite(deployPath);
    cleanups.push(() => new Promise<void>((r) => site.server.close(() => r())));
    installHook(dir, `${server.url}/hooks/demo`, secret);
    const nextJob = watchJobs(server, site.url, out, cleanups);

    out('3. git push: the hook sends a signed GitHub-style delivery; autopull fetches, builds, switches');
    const firstJob = nextJob();
    const pushed = await git(['push', '--quiet', '-u', 'origin', 'main'], work);
    for (const line of pushed.split('\n').filter((l) => l.includes('autopull'))) out(`   ${line.trim()}`);
    const first = await firstJob;
    if (first.state !== 'succeeded') throw new Error(`the demo deploy ${first.state}: ${first.reason ?? ''}`);
    printNextSteps(out, { siteUrl: site.url, apiUrl: server.url, token, link: await loginLink(server.url, token), deployPath, work, configFile, jobId: first.id });
    return { dir, apiUrl: server.url, siteUrl: site.url, token, first, close };
  } catch (err) {
    await close();
    throw err;
  }
}
