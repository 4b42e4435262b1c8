import { setTimeout as delay } from 'node:timers/promises';
import { configPath, loadConfig } from '../../config/load.js';
import { databasePath } from '../../daemon/paths.js';
import { isFinal, Store } from '../../store/store.js';
import { AppError, UsageError } from '../../lib/errors.js';
import { formatLogLine } from '../../runner/format.js';
import { appLogsCommand } from './app-logs.js';

/**
 * `autopull logs JOB`: a job's log from the store; with follow, polls until the job reaches a
 * final state. `autopull logs --app REPO`: a supervised app's output (app-logs.ts).
 */
export async function logsCommand(jobArg: string | undefined, opts: { config?: string; follow?: boolean; app?: string }): Promise<void> {
  if (jobArg !== undefined && opts.app !== undefined) throw new UsageError(`give a JOB or --app REPO, not both`);
  if (jobArg === undefined && opts.app === undefined) throw new UsageError('give a JOB number (see autopull jobs), or --app REPO for an app\'s output');
  if (jobArg !== undefined && !/^\d+$/.test(jobArg)) throw new UsageError(`JOB must be a job number, not "${jobArg}"`);
  // Only reads: works without the secrets' environment variables.
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  if (opts.app !== undefined) return appLogsCommand(config, opts.app, opts.follow !== false);
  const store = new Store(databasePath(config));
  try {
    const id = Number(jobArg);
    if (!store.getJob(id)) throw new AppError('not_found', `no job ${id} in ${databasePath(config)}`);
    await printLog(store, id, opts.follow !== false);
    const job = store.getJob(id);
    if (job?.state === 'failed' || job?.state === 'interrupted') process.exitCode = 1;
  } finally {
    store.close();
  }
}

export async function printLog(store: Store, id: number, follow: boolean, write: (s: string) => void = (s) => console.log(s)): Promise<void> {
  let after = 0;
  for (;;) {
    const state = store.getJob(id)?.state;
    for (const l of store.logsAfter(id, after)) {
      write(formatLogLine(l));
      after = l.seq;
    }
    if (!follow || state === undefined || isFinal(state)) return;
    await delay(250);
  }
}
