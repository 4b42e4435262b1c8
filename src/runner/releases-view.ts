import type { Config } from '../config/load.js';
import { AppError } from '../lib/errors.js';
import { layout, readCurrent } from '../deploy/releases.js';
import { isKnownGood } from '../store/release-state.js';
import type { BadCommit, ReleaseRow, Store } from '../store/store.js';
import { requireRepo } from './history.js';

export interface ReleaseView extends ReleaseRow {
  /** `current` points at it (read from the link on disk, the truth after a crash). */
  current: boolean;
  /** Passed its health check and probation (live or replaced): a rollback target. */
  known_good: boolean;
  failed: boolean;
}

export interface ReleasesReport {
  repo: string;
  deploy_path: string | null;
  current: string | null;
  /** Newest first. */
  releases: ReleaseView[];
  /** Commits not deployed again automatically, newest mark first. */
  bad: BadCommit[];
}

/** What `autopull releases` and `GET /api/repos/:repo/releases` show. */
export function releasesReport(config: Config, store: Store, repo: string): ReleasesReport {
  requireRepo(config, repo);
  const deploy = config.repos.get(repo as never)?.deploy;
  const current = deploy ? readCurrent(layout(deploy.path)) : null;
  const releases = store.listReleases(repo).map((r) => ({ ...r, current: r.id === current, known_good: isKnownGood(r.state), failed: r.state === 'failed' }));
  return { repo, deploy_path: deploy?.path ?? null, current, releases, bad: store.listBad(repo) };
}

const SHA_PREFIX = /^[0-9a-f]{7,64}$/;

/** Whether `text` can name a commit for `unmark`: 7 to 64 hex digits. */
export function isShaPrefix(text: string): boolean {
  return SHA_PREFIX.test(text.toLowerCase());
}

/**
 * Clears a commit's bad mark (`autopull unmark`, `DELETE /api/repos/:repo/bad/:sha`), named
 * by its sha or a prefix of at least 7 hex digits that matches one marked commit only. The
 * commit is not deployed by this: the next push or `autopull deploy` may.
 */
export function unmarkCommit(config: Config, store: Store, repo: string, shaPrefix: string): BadCommit {
  requireRepo(config, repo);
  const prefix = shaPrefix.toLowerCase();
  if (!isShaPrefix(prefix)) throw new AppError('bad_request', `"${shaPrefix.slice(0, 80)}" is not a commit sha or a prefix of one (7 to 64 hex digits)`);
  const marked = store.listBad(repo);
  const matches = marked.filter((b) => b.sha.startsWith(prefix));
  if (matches.length === 0) {
    const list = marked.length === 0 ? 'none is' : `marked: ${marked.slice(0, 10).map((b) => b.sha.slice(0, 12)).join(', ')}${marked.length > 10 ? ', ...' : ''}`;
    throw new AppError('not_found', `no commit of ${repo} starting with ${prefix} is marked bad (${list})`);
  }
  if (matches.length > 1) {
    throw new AppError('bad_request', `${prefix} is ambiguous: it starts ${matches.length} commits of ${repo} marked bad (${matches.map((b) => b.sha.slice(0, 12)).sort().join(', ')}); give more of the sha`);
  }
  const bad = matches[0] as BadCommit;
  store.clearBad(repo, bad.sha);
  return bad;
}
