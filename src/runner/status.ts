import type { Config } from '../config/load.js';
import { redactUrl } from '../lib/redact.js';
import { layout, readCurrent } from '../deploy/releases.js';
import type { Job, JobState, Store } from '../store/store.js';
import { listMirrorStatus, type MirrorStatus } from '../store/mirror-status.js';
import type { Apps } from '../deploy/apps.js';
import type { AppStatus } from '../deploy/app-status.js';
import { localApps, serverApps } from '../deploy/app-status-read.js';

const LAST_STATES: JobState[] = ['succeeded', 'failed', 'skipped', 'interrupted'];

export interface RepoStatus {
  repo: string;
  url: string;
  deploy_path: string | null;
  current: { release: string; sha: string | null } | null;
  running: Job | null;
  /** The oldest queued job (the next to run); every one is in `active`. */
  queued: Job | null;
  /** Every running and queued job, running first, then queued in the order they will run. */
  active: Job[];
  last: Job | null;
  /** One row per mirror target that has run (url without any password). */
  mirrors: MirrorStatus[];
  /** The supervised app (`deploy.start`): state, release, pid, port, uptime, restarts; null for other repos. */
  app: AppStatus | null;
}

/**
 * What `autopull status` and `GET /api/repos` show: read from the store and the disk; `apps`
 * the supervised apps' state (repoStatusWithApps), else `app` is null.
 */
export function repoStatus(config: Config, store: Store, only?: string, apps: AppStatus[] = []): RepoStatus[] {
  const out: RepoStatus[] = [];
  for (const repo of config.repos.values()) {
    if (only !== undefined && repo.name !== only) continue;
    const current = repo.deploy ? readCurrent(layout(repo.deploy.path)) : null;
    // Asked for by state: a long run of newer finished jobs must not hide a queued one.
    const active = store.activeJobs(repo.name).sort(byRunOrder);
    out.push({
      repo: repo.name,
      url: redactUrl(repo.url),
      deploy_path: repo.deploy?.path ?? null,
      current: current ? { release: current, sha: store.getRelease(repo.name, current)?.sha ?? null } : null,
      running: active.find((j) => j.state === 'running') ?? null,
      queued: active.find((j) => j.state === 'queued') ?? null,
      active,
      // The newest job that ran to an end (an ignored one never ran): one row through jobs_by_repo.
      last: store.listJobs({ repo: repo.name, states: LAST_STATES, limit: 1 })[0] ?? null,
      mirrors: repo.mirror ? listMirrorStatus(store.db, repo.name) : [],
      app: apps.find((a) => a.repo === repo.name) ?? null,
    });
  }
  return out;
}

/** repoStatus with each supervised app's state: from serve's own apps when given, else read from the data_dir. */
export async function repoStatusWithApps(config: Config, store: Store, only?: string, apps?: Apps): Promise<RepoStatus[]> {
  const known = only === undefined || config.repos.has(only as never);
  const states = !known ? [] : apps ? await serverApps(config, apps, only) : await localApps(config, only);
  return repoStatus(config, store, only, states);
}

/** Running before queued; queued jobs oldest first (claim takes the lowest id). */
function byRunOrder(a: Job, b: Job): number {
  if (a.state !== b.state) return a.state === 'running' ? -1 : 1;
  return a.id - b.id;
}
