import { setTimeout as delay } from 'node:timers/promises';
import { configPath, loadConfig, type Config } from '../../config/load.js';
import { databasePath } from '../../daemon/paths.js';
import { isFinal, Store, type Job, type LogLine } from '../../store/store.js';
import { Worker } from '../../runner/worker.js';
import { enqueueManual, enqueueRollback } from '../../runner/manual.js';
import { AppError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/log.js';
import { findServer, type ApiClient } from '../client.js';
import { formatJob, formatLogLine } from '../../runner/format.js';
import { printLog } from './logs.js';

interface JobRequest {
  repo: string;
  /** API route under /api/repos/:repo/ and its JSON body. */
  action: 'deploy' | 'rollback' | 'mirror';
  body: Record<string, unknown>;
  /** The same request in-process. */
  enqueue(config: Config, store: Store): { id: number };
  wait: boolean;
}

/**
 * Runs a job through the running server's API when one runs, else in-process on the same
 * data_dir; follows its log; exit 1 unless it succeeded or was skipped.
 */
export async function runJobCommand(configOption: string | undefined, r: JobRequest): Promise<Job | null> {
  const config = loadConfig(configPath(configOption));
  const client = await findServer(config);
  const job = client ? await viaApi(client, r) : await inProcess(config, r);
  if (job && job.state !== 'succeeded' && job.state !== 'skipped') process.exitCode = 1;
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
    worker.kick(r.repo);
    await Promise.all([worker.idle(), printLog(store, id, true)]);
    const job = store.getJob(id);
    if (job) console.log(formatJob(job));
    return job;
  } finally {
    store.close();
  }
}

export async function deployCommand(repo: string, opts: { config?: string; ref?: string; force?: boolean; wait?: boolean }): Promise<void> {
  await runJobCommand(opts.config, {
    repo,
    action: 'deploy',
    body: { ref: opts.ref, force: opts.force ?? false },
    enqueue: (config, store) => enqueueManual(config, store, repo, opts.ref, opts.force ?? false),
    wait: opts.wait !== false,
  });
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
