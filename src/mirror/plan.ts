import { matchesAny } from '../lib/glob.js';

/** ref -> object id. */
export type Refs = ReadonlyMap<string, string>;

export interface MirrorOptions {
  /** Ref globs (`refs/heads/*`); only matching refs are pushed or deleted. */
  refs: readonly string[];
  prune: boolean;
  force: boolean;
}

export interface MirrorPlan {
  /** Refs to create or move, with `force` when the push may rewind the target. */
  update: { ref: string; sha: string; force: boolean }[];
  /** Refs the target has and the source no longer has (only with prune). */
  delete: string[];
  /** Refs already equal at the target. */
  unchanged: number;
}

/**
 * Decides what one target needs, from the source's refs and the target's (ls-remote). Pure:
 * whether a move is a fast-forward is git's to judge at push time (`force: false` pushes
 * without `+` and git rejects a diverged ref, alone).
 */
export function planMirror(source: Refs, target: Refs, o: MirrorOptions): MirrorPlan {
  const plan: MirrorPlan = { update: [], delete: [], unchanged: 0 };
  for (const [ref, sha] of [...source].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!matchesAny(ref, o.refs)) continue;
    if (target.get(ref) === sha) plan.unchanged++;
    else plan.update.push({ ref, sha, force: o.force });
  }
  if (o.prune) {
    for (const ref of [...target.keys()].sort()) {
      if (matchesAny(ref, o.refs) && !source.has(ref)) plan.delete.push(ref);
    }
  }
  return plan;
}

/** The refspecs for `git push`: `+sha:ref` (forced), `sha:ref`, `:ref` (delete). */
export function refspecs(plan: MirrorPlan): string[] {
  return [...plan.update.map((u) => `${u.force ? '+' : ''}${u.sha}:${u.ref}`), ...plan.delete.map((r) => `:${r}`)];
}

/** hg sources: the ref for hg's default branch becomes `refs/heads/<branch>` (a bookmark of that name wins). */
export function renameDefault(source: Refs, hgDefault: string | null, branch: string): Map<string, string> {
  const out = new Map(source);
  if (hgDefault === null) return out;
  const to = `refs/heads/${branch}`;
  if (to === hgDefault) return out;
  const sha = out.get(hgDefault);
  out.delete(hgDefault);
  if (sha !== undefined && !out.has(to)) out.set(to, sha);
  return out;
}
