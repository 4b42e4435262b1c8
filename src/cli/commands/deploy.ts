import { setTimeout as delay } from 'node:timers/promises';
import { configPath, loadConfig, type Config } from '../../config/load.js';
import { databasePath, formatUrl } from '../../daemon/paths.js';
import { isFinal, Store, type Job, type LogLine } from '../../store/store.js';
import { Worker } from '../../runner/worker.js';
import { enqueueManual, enqueueRollback } from '../../runner/manual.js';
import { AppError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/log.js';
import { findServer, type ApiClient } from '../client.js';
import { formatJob, formatLogLine } from '../../runner/format.js';
import { printLog } from './logs.js';
import { startNotifier } from '../../notify/notifier.js';
import { layout, readCurrent, releaseShortSha } from '../../deploy/releases.js';
import { shortSha } from '../../lib/ids.js';
import { escapeLines } from '../../lib/escape-controls.js';

interface JobRequest {
  repo: string;
  /** API route under /api/repos/:repo/ and its JSON body. */
  action: 'deploy' | 'rollback' | 'mirror' | 'restart';
  body: Record<string, unknown>;
  /** The same request in-process. */
  enqueue(config: Config, store: Store): { id: number };
  wait: boolean;
  /**
   * Decides the exit code once the job ended (true: 0). Without it, 0 when the job
   * succeeded or was skipped.
   */
  verdict?(config: Config, job: Job): boolean;
}

/**
 * Runs a job through the running server's API when one runs, else in-process on the same
 * data_dir; follows its log; exit 1 unless it succeeded or was skipped.
 */
export async function runJobCommand(configOption: string | undefined, r: JobRequest): Promise<Job | null> {
  const config = loadConfig(configPath(configOption));
  const client = await findServer(config);
  const job = client ? await viaApi(client, r) : await inProcess(config, r);
  const ok = job === null || (r.verdict ? r.verdict(config, job) : job.state === 'succeeded' || job.state === 'skipped');
  if (!ok) process.exitCode = 1;
  return job;
}

async function viaApi(client: ApiClient, r: JobRequest): Promise<Job | null> {
  const res = await client.request<{ ok: boolean; jobs?: number[]; message: string; error?: string }>('POST', `/api/repos/${encodeURIComponent(r.repo)}/${r.action}`, r.body);
  if (!res.body.ok || !res.body.jobs?.[0]) throw new AppError('bad_request', res.body.message);
  const id = res.body.jobs[0];
  console.log(`job ${id} queued on ${client.url}`);
  if (!r.wait) return null;
  let after = 0;
  for (;;) {
    const log = await client.request<{ state: string; lines: LogLine[] }>('GET', `/api/jobs/${id}/log?after=${after}`);
    for (const l of log.body.lines) {
      console.log(formatLogLine(l));
      after = l.seq;
    }
    if (isFinal(log.body.state)) break;
    await delay(250);
  }
  const job = (await client.request<{ job: Job }>('GET', `/api/jobs/${id}`)).body.job;
  console.log(formatJob(job));
  return job;
}

async function inProcess(config: Config, r: JobRequest): Promise<Job | null> {
  const repo = config.repos.get(r.repo as never);
  if (repo?.deploy?.start && r.action !== 'mirror') {
    // Its app would die with this process: only the server runs supervised apps.
    throw new AppError('conflict', `repo ${r.repo} is supervised (deploy.start) and no server is running: start autopull serve, then run this again`);
  }
  const store = new Store(databasePath(config));
  try {
    const { id } = r.enqueue(config, store);
    console.log(`job ${id} queued (no server running: running it in this process)`);
    if (!r.wait) return null;
    // Only this job: jobs queued by a server (webhooks, polls) are the server's to run.
    const worker = new Worker(config, store, silentLogger(), { only: id });
    // Its notifications too: their first attempts get a few seconds after the job, no retries.
    const notifier = startNotifier(config, store, silentLogger(), formatUrl(config.listen.host, config.listen.port, config.tls !== undefined));
    try {
      worker.kick(r.repo);
      await Promise.all([worker.idle(), printLog(store, id, true)]);
    } finally {
      await notifier.stop(NOTIFY_GRACE_MS);
    }
    const job = store.getJob(id);
    if (job) console.log(formatJob(job));
    return job;
  } finally {
    store.close();
  }
}

/** How long an in-process run waits for its notifications after the job. */
const NOTIFY_GRACE_MS = 5000;

/**
 * `autopull deploy`: exit 0 only when the commit the job resolved is the live release when
 * the command ends (read from the `current` link): deployed now, or already live. A skip for
 * a commit marked bad, a failure, or a newer release taking its place exit 1, saying so.
 */
export async function deployCommand(repo: string, opts: { config?: string; ref?: string; force?: boolean; wait?: boolean }): Promise<void> {
  await runJobCommand(opts.config, {
    repo,
    action: 'deploy',
    body: { ref: opts.ref, force: opts.force ?? false },
    enqueue: (config, store) => enqueueManual(config, store, repo, opts.ref, opts.force ?? false),
    wait: opts.wait !== false,
    verdict: requestedIsLive,
  });
}

function requestedIsLive(config: Config, job: Job): boolean {
  const deploy = config.repos.get(job.repo as never)?.deploy;
  const live = deploy ? readCurrent(layout(deploy.path)) : null;
  const sha = job.target_sha;
  const isLive = live !== null && sha !== null && sha.startsWith(releaseShortSha(live)) && releaseShortSha(live) !== '';
  const what = sha ? shortSha(sha) : (job.ref ?? 'the commit');
  const serving = live ? `release ${live} is live` : 'no release is live';
  if (isLive) return true;
  if (job.state === 'skipped') console.error(`autopull: not deployed: ${escapeLines(job.reason ?? 'skipped')}`);
  else if (job.state === 'succeeded') console.error(`autopull: ${what} was deployed, but ${serving} now (a newer job replaced it)`);
  else console.error(`autopull: not deployed: job ${job.id} ${job.state}${job.failure ? ` (${job.failure})` : ''}; ${serving}`);
  return false;
}

export async function rollbackCommand(repo: string, opts: { config?: string; to?: string; wait?: boolean }): Promise<void> {
  await runJobCommand(opts.config, {
    repo,
    action: 'rollback',
    body: opts.to === undefined ? {} : { to: opts.to },
    enqueue: (config, store) => enqueueRollback(config, store, repo, opts.to),
    wait: opts.wait !== false,
  });
}
