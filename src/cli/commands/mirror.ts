import { configPath, loadConfig } from '../../config/load.js';
import { enqueueMirror } from '../../jobs/manual.js';
import { findServer } from '../client.js';
import { queueViaApi, runInProcess } from './deploy.js';

/**
 * `autopull mirror REPO`: fetch and push the repo's mirrors now, through the running server
 * when one runs, else in this process. Exit 1 when the job fails or a target did not take
 * every ref (the target lines in the log say why).
 */
export async function mirrorCommand(repo: string, opts: { config?: string; wait?: boolean }): Promise<void> {
  const config = loadConfig(configPath(opts.config));
  const client = await findServer(config);
  const wait = opts.wait !== false;
  const job = client
    ? await queueViaApi(client, `/api/repos/${encodeURIComponent(repo)}/mirror`, {}, wait)
    : await runInProcess(config, repo, (store) => enqueueMirror(config, store, repo).id, 'mirroring', wait);
  if (job && (job.state !== 'succeeded' || /failed|diverged/.test(job.reason ?? ''))) process.exitCode = 1;
}
