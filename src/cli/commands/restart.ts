import { configPath, loadConfig } from '../../config/load.js';
import { enqueueRestart } from '../../runner/apps.js';
import { escapeLines } from '../../lib/escape-controls.js';
import { appLines } from '../app-tables.js';
import { runJobCommand } from './deploy.js';
import { fetchApps } from './apps.js';

/**
 * `autopull restart REPO`: a job of kind `restart` (the live release's app through its gate;
 * behind the proxy with no downtime), through the running server; follows its log. Exit 0
 * only when the job succeeded and the app runs when the command ends.
 */
export async function restartCommand(repo: string, opts: { config?: string; wait?: boolean }): Promise<void> {
  const wait = opts.wait !== false;
  const job = await runJobCommand(opts.config, { repo, action: 'restart', body: {}, enqueue: (config, store) => enqueueRestart(config, store, repo), wait });
  if (!wait || job?.state !== 'succeeded') return;
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  const [app] = await fetchApps(config, repo);
  if (!app) return;
  console.log(`${repo}: ${appLines(app).join('; ')}`);
  if (app.state !== 'running' && app.state !== 'starting') {
    console.error(`autopull: job ${job.id} succeeded, but the app of ${escapeLines(repo)} is ${app.state} now`);
    process.exitCode = 1;
  }
}
