import type { ReleaseRow } from '../store/store.js';

/**
 * Which releases to delete: every failed or unfinished one (they never count toward
 * `keep`), and good ones beyond the newest `keep` — but never `current` nor the previous
 * good release (the rollback target). Pure: takes rows and returns ids.
 */
export function planPrune(rows: readonly Pick<ReleaseRow, 'id' | 'state' | 'created_at'>[], keep: number, protect: readonly (string | null)[]): string[] {
  const keepSet = new Set(protect.filter((p): p is string => p !== null));
  // Newest first by creation time: two releases made in the same second have ids that sort by sha.
  const newest = (a: Pick<ReleaseRow, 'id' | 'created_at'>, b: Pick<ReleaseRow, 'id' | 'created_at'>) =>
    b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);
  const good = rows.filter((r) => r.state === 'ready' || r.state === 'live').sort(newest);
  const goodKept = new Set(good.slice(0, keep).map((r) => r.id));
  return rows.filter((r) => !keepSet.has(r.id) && !goodKept.has(r.id)).map((r) => r.id);
}
