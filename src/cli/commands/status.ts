import { configPath, loadConfig } from '../../config/load.js';
import { databasePath } from '../../daemon/paths.js';
import { Store } from '../../store/store.js';
import { repoStatus } from '../../runner/status.js';
import { AppError } from '../../lib/errors.js';
import { formatJob, formatMirror } from '../../runner/format.js';

/** Reads the store and the disk directly (WAL lets it read while the server writes). */
export async function statusCommand(repo: string | undefined, opts: { config?: string; json?: boolean }): Promise<void> {
  const config = loadConfig(configPath(opts.config));
  if (repo !== undefined && !config.repos.has(repo as never)) throw new AppError('unknown_repo', `no repo named "${repo}" is configured`);
  const store = new Store(databasePath(config));
  try {
    const list = repoStatus(config, store, repo);
    if (opts.json) {
      console.log(JSON.stringify({ repos: list }, null, 2));
      return;
    }
    for (const s of list) {
      console.log(`${s.repo}  ${s.url}`);
      console.log(`  current: ${s.current ? `${s.current.release}${s.current.sha ? ` (${s.current.sha})` : ''}` : '(none)'}`);
      if (s.running) console.log(`  running: ${formatJob(s.running)}`);
      if (s.queued) console.log(`  queued:  ${formatJob(s.queued)}`);
      console.log(`  last:    ${s.last ? formatJob(s.last) : '(no job yet)'}`);
      for (const m of s.mirrors) console.log(`  mirror:  ${formatMirror(m)}`);
    }
  } finally {
    store.close();
  }
}
