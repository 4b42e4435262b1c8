import { configPath, loadConfig } from '../../config/load.js';
import { UsageError } from '../../lib/errors.js';
import type { Job } from '../../store/store.js';
import { jobHistory, parseJobFilter } from '../../runner/history.js';
import { apiCall, viaServerOrStore } from '../server-or-store.js';
import { jobsTable } from '../tables.js';

/**
 * `autopull jobs [REPO] [--state S] [--limit N] [--json]`: the job history, newest first,
 * through the running server's API or from the data_dir. Only reads: works without the
 * secrets' environment variables.
 */
export async function jobsCommand(repo: string | undefined, opts: { config?: string; state?: string; limit?: string; json?: boolean }): Promise<void> {
  const query = { ...(repo !== undefined ? { repo } : {}), ...(opts.state !== undefined ? { state: opts.state } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}) };
  const parsed = parseJobFilter(query);
  if ('problems' in parsed) throw new UsageError(parsed.problems.map((p) => p.replace(/^state:/, '--state:').replace(/^limit:/, '--limit:')).join('; '));
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  const jobs = await viaServerOrStore(
    config,
    async (client) => (await apiCall<{ jobs: Job[] }>(client, 'GET', `/api/jobs?${new URLSearchParams(query).toString()}`)).jobs,
    (store) => jobHistory(config, store, parsed.filter),
  );
  if (opts.json) {
    console.log(JSON.stringify({ jobs }, null, 2));
    return;
  }
  if (jobs.length === 0) {
    console.log(`no jobs${repo !== undefined ? ` for ${repo}` : ''}${opts.state !== undefined ? ` in state ${opts.state}` : ''}`);
    return;
  }
  for (const line of jobsTable(jobs)) console.log(line);
}
