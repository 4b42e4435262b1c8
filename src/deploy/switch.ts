import { replaceSymlink, replaceSymlinkSyncLater } from '../lib/atomic-fs.js';
import type { ReleaseId } from '../lib/ids.js';
import type { Layout } from './releases.js';

/**
 * Points `current` at a release: a relative link (`releases/<id>`, so the whole deploy
 * folder can move) made under a temp name and renamed over `current`. If we die before the
 * rename, `current` is untouched; after it, the next start reads the new target from disk.
 */
export function switchCurrent(l: Layout, id: ReleaseId): void {
  replaceSymlink(l.current, `releases/${id}`);
}

/**
 * `switchCurrent` whose fsync runs beside what comes next (a restart command): `current`
 * points at `id` on return; the promise resolves once that would survive a power cut too.
 * The caller awaits it before the release can be called live.
 */
export function switchCurrentSyncLater(l: Layout, id: ReleaseId): Promise<void> {
  return replaceSymlinkSyncLater(l.current, `releases/${id}`);
}
