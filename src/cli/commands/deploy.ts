import { setTimeout as delay } from 'node:timers/promises';
import { configPath, loadConfig, type Config } from '../../config/load.js';
import { databasePath } from '../../http/server.js';
import { Store, type Job, type LogLine } from '../../jobs/store.js';
import { Worker } from '../../jobs/worker.js';
import { enqueueManual } from '../../jobs/manual.js';
import { AppError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/log.js';
import { findServer, type ApiClient } from '../client.js';
import { FINAL, formatJob, formatLogLine } from '../output.js';
import { printLog } from './logs.js';

interface DeployOpts {
  config?: string;
  ref?: string;
  force?: boolean;
  wait?: boolean;
}

/** Through the running server's API when one runs, else in-process on the same data_dir. */
export async function deployCommand(repo: string, opts: DeployOpts): Promise<void> {
  const config = loadConfig(configPath(opts.config));
  const client = await findServer(config);
  const job = client ? await viaApi(client, repo, opts) : await inProcess(config, repo, opts);
  if (job && job.state !== 'succeeded' && job.state !== 'skipped' && job.state !== 'queued') process.exitCode = 1;
}

async function viaApi(client: ApiClient, repo: string, opts: DeployOpts): Promise<Job | null> {
  return queueViaApi(client, `/api/repos/${encodeURIComponent(repo)}/deploy`, { ref: opts.ref, force: opts.force ?? false }, opts.wait !== false);
}

/** POSTs a job request to the server, then prints the job's log until it ends (unless !wait). */
export async function queueViaApi(client: ApiClient, path: string, body: unknown, wait: boolean): Promise<Job | null> {
  const res = await client.request<{ ok: boolean; jobs?: number[]; message: string; error?: string }>('POST', path, body);
  if (!res.body.ok || !res.body.jobs?.[0]) throw new AppError('bad_request', res.body.message);
  const id = res.body.jobs[0];
  console.log(`job ${id} queued on ${client.url}`);
  if (!wait) return null;
  let after = 0;
  for (;;) {
    const log = await client.request<{ state: string; lines: LogLine[] }>('GET', `/api/jobs/${id}/log?after=${after}`);
    for (const l of log.body.lines) {
      console.log(formatLogLine(l));
      after = l.seq;
    }
    if (FINAL.has(log.body.state)) break;
    await delay(250);
  }
  const job = (await client.request<{ job: Job }>('GET', `/api/jobs/${id}`)).body.job;
  console.log(formatJob(job));
  return job;
}

async function inProcess(config: Config, repo: string, opts: DeployOpts): Promise<Job | null> {
  return runInProcess(config, repo, (store) => enqueueManual(config, store, repo, opts.ref, opts.force ?? false).id, 'deploying', opts.wait !== false);
}

/** Queues a job in the store and runs the repo's queue in this process, printing its log. */
export async function runInProcess(config: Config, repo: string, enqueue: (store: Store) => number, doing: string, wait: boolean): Promise<Job | null> {
  const store = new Store(databasePath(config));
  try {
    const id = enqueue(store);
    console.log(`job ${id} queued (no server running: ${doing} in this process)`);
    if (!wait) return null;
    const worker = new Worker(config, store, silentLogger());
    worker.kick(repo);
    await Promise.all([worker.idle(), printLog(store, id, true)]);
    const job = store.getJob(id);
    if (job) console.log(formatJob(job));
    return job;
  } finally {
    store.close();
  }
}
