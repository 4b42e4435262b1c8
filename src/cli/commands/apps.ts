import { configPath, loadConfig, type Config } from '../../config/load.js';
import type { AppStatus } from '../../deploy/app-status.js';
import { appsReport, supervisedRepo } from '../../runner/apps.js';
import { findServer } from '../client.js';
import { apiCall } from '../server-or-store.js';
import { appsTable } from '../app-tables.js';

/**
 * The supervised apps' state: through the running server's API when one runs, else read from
 * the data_dir (each port-mode app's pid file, the runtime's socket, which is asked without
 * ever starting a runtime).
 */
export async function fetchApps(config: Config, repo?: string): Promise<AppStatus[]> {
  if (repo !== undefined) supervisedRepo(config, repo);
  const client = await findServer(config);
  if (!client) return appsReport(config, undefined, repo);
  if (repo === undefined) return (await apiCall<{ apps: AppStatus[] }>(client, 'GET', '/api/apps')).apps;
  return [(await apiCall<{ app: AppStatus }>(client, 'GET', `/api/apps/${encodeURIComponent(repo)}`)).app];
}

/** `autopull apps [REPO] [--json]`: every supervised app of both kinds, a row per instance. Only reads. */
export async function appsCommand(repo: string | undefined, opts: { config?: string; json?: boolean }): Promise<void> {
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  const apps = await fetchApps(config, repo);
  if (opts.json) {
    console.log(JSON.stringify({ apps }, null, 2));
    return;
  }
  if (apps.length === 0) {
    console.log('no supervised apps: no repo has deploy.start');
    return;
  }
  for (const line of appsTable(apps)) console.log(line);
}
