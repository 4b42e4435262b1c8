import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isKnownGood } from '../store/release-state.js';
import type { ReleaseLedger } from '../store/release-ledger.js';
import type { ReleaseRow } from '../store/store.js';
import { listReleaseDirs, readCurrent, type Layout } from './releases.js';

/**
 * Which releases to delete: every one that never passed its health check (building, built,
 * switching, failed: they never count toward `keep`), and known-good ones beyond the newest
 * `keep`, but never `current` nor a protected one (the new release and the rollback target).
 * Pure: takes rows and returns ids.
 */
export function planPrune(rows: readonly Pick<ReleaseRow, 'id' | 'state' | 'created_at'>[], keep: number, protect: readonly (string | null)[]): string[] {
  const keepSet = new Set(protect.filter((p): p is string => p !== null));
  // Newest first by creation time: two releases made in the same second have ids that sort by sha.
  const newest = (a: Pick<ReleaseRow, 'id' | 'created_at'>, b: Pick<ReleaseRow, 'id' | 'created_at'>) =>
    b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);
  const good = rows.filter((r) => isKnownGood(r.state)).sort(newest);
  const goodKept = new Set(good.slice(0, keep).map((r) => r.id));
  return rows.filter((r) => !keepSet.has(r.id) && !goodKept.has(r.id)).map((r) => r.id);
}

/**
 * Deletes what planPrune says; never the protected ones, `current`, nor a release of a job
 * still running (in this process or another one: a `building` release whose job runs is being
 * built, not left over). Recovery decides when a running job is dead (its owner pid and start
 * time); only then may its release go. Returns the ids removed.
 *
 * The folders are removed in the thread pool: a release with a node_modules is thousands of
 * files, and the event loop (webhooks, the proxy in front of the new release) keeps turning.
 */
export async function prune(releases: ReleaseLedger, l: Layout, keep: number, protect: (string | null)[], log: (m: string) => void = () => {}): Promise<string[]> {
  const current = readCurrent(l);
  const { rows, inUse } = releases.snapshot();
  const known = new Set(rows.map((r) => r.id));
  const doomed = planPrune(rows, keep, [...protect, current, ...inUse]);
  for (const id of doomed) {
    await rm(join(l.releases, id), { recursive: true, force: true });
    releases.remove(id);
  }
  // Folders the store does not know were not made by this data_dir: report, never delete.
  for (const id of listReleaseDirs(l)) {
    if (!known.has(id) && id !== current) log(`releases/${id} is not known to this data_dir; left alone`);
  }
  if (doomed.length > 0) log(`removed ${doomed.map((d) => `releases/${d}`).join(', ')}`);
  return doomed;
}
