import type { Config } from '../config/load.js';
import { AppError } from '../lib/errors.js';
import { parseReleaseId, type RepoName } from '../lib/ids.js';
import { refNameProblem } from '../vcs/ref-name.js';
import type { Store } from '../store/store.js';

/**
 * Queues a deploy asked for by a person (CLI or API). `ref` may be a branch, a tag, a full
 * ref or a commit id; it is resolved in the cache after the fetch, like a pushed ref.
 */
function deployable(config: Config, repoName: string) {
  const repo = config.repos.get(repoName as RepoName);
  if (!repo) throw new AppError('unknown_repo', `no repo named "${repoName}" is configured (known: ${[...config.repos.keys()].join(', ')})`);
  if (!repo.deploy) throw new AppError('bad_request', `repo ${repoName} has no deploy: section`);
  return repo;
}

/** Queues a rollback to the previous good release, or to release `to`. */
export function enqueueRollback(config: Config, store: Store, repoName: string, to: string | undefined): { id: number; coalesced: boolean } {
  const repo = deployable(config, repoName);
  if (to !== undefined && parseReleaseId(to) === null) throw new AppError('bad_request', `--to "${to}" is not a release id (like 20261122T031500-1a2b3c4; see autopull status)`);
  return store.enqueue({ repo: repo.name, kind: 'rollback', params: to === undefined ? {} : { to }, ref: null, hintSha: null, trigger: 'manual' });
}

export function enqueueManual(config: Config, store: Store, repoName: string, ref: string | undefined, force: boolean): { id: number; coalesced: boolean } {
  const repo = deployable(config, repoName);
  if (ref !== undefined) {
    const full = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const problem = refNameProblem(full);
    if (problem || ref.startsWith('-')) throw new AppError('bad_request', `--ref "${ref}" is not a valid ref: it ${problem ?? 'starts with -'}`);
  }
  return store.enqueue({ repo: repo.name, ref: ref ?? null, hintSha: null, trigger: 'manual', force });
}

/** Queues a fetch-and-mirror asked for by a person (`autopull mirror REPO`). */
export function enqueueMirror(config: Config, store: Store, repoName: string): { id: number; coalesced: boolean } {
  const repo = config.repos.get(repoName as RepoName);
  if (!repo) throw new AppError('unknown_repo', `no repo named "${repoName}" is configured (known: ${[...config.repos.keys()].join(', ')})`);
  if (!repo.mirror || repo.mirror.length === 0) throw new AppError('bad_request', `repo ${repoName} has no mirror: section`);
  return store.enqueue({ repo: repo.name, ref: null, hintSha: null, trigger: 'manual', kind: 'mirror' });
}
