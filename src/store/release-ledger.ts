import type { Store } from './store.js';
import { canMove, ReleaseStateError, type ReleaseState } from './release-state.js';
import type { BadCommit, ReleaseRow } from './types.js';

/**
 * One repo's releases and bad commits, as a deploy sees them: what the gate, rollback and
 * prune need, and no more. Every state change goes through `move`, which refuses what the
 * state machine (release-state.ts) does not allow.
 */
export interface ReleaseLedger {
  get(id: string): ReleaseRow | null;
  /** Newest first. */
  list(): ReleaseRow[];
  /** The rows, and the releases of jobs still running (in any process), read in one snapshot. */
  snapshot(): { rows: ReleaseRow[]; inUse: string[] };
  /** A new release, in state `building`. */
  create(id: string, sha: string, jobId: number): void;
  /** Moves a release to `to` (no-op when it is there already); `previous` is recorded on entering `switching`. */
  move(id: string, to: ReleaseState, opts?: { previous?: string | null }): void;
  remove(id: string): void;
  markBad(sha: string, reason: string, jobId: number | null): void;
  getBad(sha: string): BadCommit | null;
  clearBad(sha: string): void;
}

export function releaseLedger(store: Store, repo: string): ReleaseLedger {
  return {
    get: (id) => store.getRelease(repo, id),
    list: () => store.listReleases(repo),
    snapshot: () =>
      store.transaction(() => {
        const rows = store.listReleases(repo);
        const running = store.listJobs({ repo, states: ['running'] });
        const busy = new Set(running.map((j) => j.id));
        const inUse = [...running.map((j) => j.release), ...rows.filter((r) => r.job_id !== null && busy.has(r.job_id)).map((r) => r.id)];
        return { rows, inUse: inUse.filter((id): id is string => id !== null) };
      }),
    create: (id, sha, jobId) => store.putRelease({ repo, id, sha, job_id: jobId, state: 'building' }),
    move(id, to, opts) {
      const row = store.getRelease(repo, id);
      if (!row) return;
      if (row.state !== to && !canMove(row.state, to)) throw new ReleaseStateError(repo, id, row.state, to);
      if (opts?.previous !== undefined) store.setReleasePrevious(repo, id, opts.previous);
      if (row.state !== to) store.setReleaseState(repo, id, to);
    },
    remove: (id) => store.deleteRelease(repo, id),
    markBad: (sha, reason, jobId) => store.markBad(repo, sha, reason, jobId),
    getBad: (sha) => store.getBad(repo, sha),
    clearBad: (sha) => store.clearBad(repo, sha),
  };
}
