import { configPath, loadConfig } from '../../config/load.js';
import { repoStatusWithApps, type RepoStatus } from '../../runner/status.js';
import { requireRepo } from '../../runner/history.js';
import { escapeControls as e } from '../../lib/escape-controls.js';
import { formatJob, formatMirror } from '../../runner/format.js';
import { apiCall, viaServerOrStore } from '../server-or-store.js';
import { activeJob } from '../tables.js';
import { appLines } from '../app-tables.js';

/**
 * `autopull status [REPO] [--json]`: each repo's live release, its running and queued jobs
 * (with their ids), the supervised app's state, the last result and the mirrors' health; through the running server's
 * API, or from the data_dir and the disk when none runs. Only reads: works without the
 * secrets' environment variables.
 */
export async function statusCommand(repo: string | undefined, opts: { config?: string; json?: boolean }): Promise<void> {
  const config = loadConfig(configPath(opts.config), process.env, { withoutSecrets: true });
  if (repo !== undefined) requireRepo(config, repo);
  const list = await viaServerOrStore(
    config,
    async (client) =>
      repo === undefined
        ? (await apiCall<{ repos: RepoStatus[] }>(client, 'GET', '/api/repos')).repos
        : [(await apiCall<{ repo: RepoStatus }>(client, 'GET', `/api/repos/${encodeURIComponent(repo)}`)).repo],
    (store) => repoStatusWithApps(config, store, repo),
  );
  if (opts.json) {
    console.log(JSON.stringify({ repos: list }, null, 2));
    return;
  }
  for (const s of list) {
    console.log(`${e(s.repo)}  ${e(s.url)}`);
    console.log(`  current: ${s.current ? `${s.current.release}${s.current.sha ? ` (${s.current.sha})` : ''}` : '(none)'}`);
    if (s.app) appLines(s.app).forEach((l, i) => console.log(`  ${i === 0 ? 'app:    ' : '        '} ${l}`));
    const active = s.active ?? [];
    if (active.length === 0) console.log('  jobs:    none running or queued');
    for (const j of active) console.log(`  ${j.state === 'running' ? 'running:' : 'queued: '} ${activeJob(j)}`);
    console.log(`  last:    ${s.last ? formatJob(s.last) : '(no job yet)'}`);
    for (const m of s.mirrors) console.log(`  mirror:  ${formatMirror(m)}`);
  }
}
