import type { Config, RepoConfig } from '../config/load.js';
import { AppError, type ErrorCode } from '../lib/errors.js';
import type { Apps } from '../deploy/apps.js';
import type { AppStatus } from '../deploy/app-status.js';
import { localApps, serverApps } from '../deploy/app-status-read.js';
import type { Store } from '../store/store.js';

/**
 * The supervised apps as `autopull apps`, `logs --app`, `restart` and /api/apps see them:
 * the repo checks (a clear error for an unknown repo or one without `deploy.start`), the
 * state read from serve's own apps (in serve) or from the data_dir (a CLI with no server),
 * and the restart job.
 */

/** The repo named, when it runs a supervised app; else an AppError (`unknown_repo`, or `code`). */
export function supervisedRepo(config: Config, name: string, code: ErrorCode = 'not_found'): RepoConfig {
  const repo = config.repos.get(name as never);
  if (!repo) throw new AppError('unknown_repo', `no repo named "${name.slice(0, 100)}" is configured (known: ${[...config.repos.keys()].join(', ')})`);
  if (!repo.deploy?.start) {
    const how = repo.deploy?.restart ? ` (its app is restarted by deploy.restart; to run that again: autopull deploy ${repo.name} --force)` : '';
    throw new AppError(code, `repo ${repo.name} has no supervised app: its deploy: section has no start:${how}`);
  }
  return repo;
}

/** Every supervised app's state (or the one named): from serve's apps when given, else read from the data_dir. */
export function appsReport(config: Config, apps: Apps | undefined, only?: string): Promise<AppStatus[]> {
  if (only !== undefined) supervisedRepo(config, only);
  return apps ? serverApps(config, apps, only) : localApps(config, only);
}

/** Queues a restart of the repo's app through its gate (`autopull restart`, POST /api/repos/:repo/restart). */
export function enqueueRestart(config: Config, store: Store, name: string): { id: number; coalesced: boolean } {
  const repo = supervisedRepo(config, name, 'bad_request');
  return store.enqueue({ repo: repo.name, kind: 'restart', ref: null, hintSha: null, trigger: 'manual' });
}
