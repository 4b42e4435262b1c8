import type { Config } from '../config/load.js';
import { redactUrl } from '../lib/redact.js';
import { layout, readCurrent } from '../deploy/releases.js';
import type { Job, Store } from '../store/store.js';
import { listMirrorStatus, type MirrorStatus } from '../store/mirror-status.js';

export interface RepoStatus {
  repo: string;
  url: string;
  deploy_path: string | null;
  current: { release: string; sha: string | null } | null;
  running: Job | null;
  queued: Job | null;
  last: Job | null;
  /** One row per mirror target that has run (url without any password). */
  mirrors: MirrorStatus[];
}

/** What `autopull status` and `GET /api/repos` show: read from the store and the disk. */
export function repoStatus(config: Config, store: Store, only?: string): RepoStatus[] {
  const out: RepoStatus[] = [];
  for (const repo of config.repos.values()) {
    if (only !== undefined && repo.name !== only) continue;
    const current = repo.deploy ? readCurrent(layout(repo.deploy.path)) : null;
    const jobs = store.listJobs({ repo: repo.name, limit: 20 });
    const find = (pred: (j: Job) => boolean) => jobs.find(pred) ?? null;
    out.push({
      repo: repo.name,
      url: redactUrl(repo.url),
      deploy_path: repo.deploy?.path ?? null,
      current: current ? { release: current, sha: store.getRelease(repo.name, current)?.sha ?? null } : null,
      running: find((j) => j.state === 'running'),
      queued: find((j) => j.state === 'queued'),
      last: find((j) => j.state !== 'running' && j.state !== 'queued' && j.state !== 'ignored'),
      mirrors: repo.mirror ? listMirrorStatus(store.db, repo.name) : [],
    });
  }
  return out;
}
