import type { GitAuth } from '../vcs/git.js';
import { pushRefs, remoteRefs } from '../vcs/git.js';
import type { MirrorSource } from '../vcs/index.js';
import { planMirror, refspecs, renameDefault } from './plan.js';
import type { ResolvedTarget } from './targets.js';

export interface TargetResult {
  updated: string[];
  deleted: string[];
  unchanged: number;
  /** Refs git refused (a diverged ref with force: false), each with git's reason. */
  rejected: { ref: string; reason: string }[];
}

/**
 * Mirrors one target: reads its refs, plans, pushes the difference in one `git push`
 * without --atomic (a rejected ref does not hold back the others). Throws when the target
 * cannot be reached; the message is git's, shown with the redacted url.
 */
export async function mirrorTarget(source: MirrorSource, target: ResolvedTarget, auth: GitAuth, signal?: AbortSignal): Promise<TargetResult> {
  const refs = renameDefault(source.refs, source.hgDefault, target.options.default_branch ?? 'main');
  const there = await remoteRefs(target.url, auth, { signal, display: `git ls-remote ${target.shown}` });
  const plan = planMirror(refs, there, target.options);
  const result: TargetResult = { updated: [], deleted: [], unchanged: plan.unchanged, rejected: [] };
  const pushed = await pushRefs(source.gitDir, target.url, refspecs(plan), auth, { signal, display: `git push ${target.shown}` });
  for (const p of pushed) {
    if (p.flag === 'rejected') result.rejected.push({ ref: p.ref, reason: p.summary.replace(/^\[rejected\]\s*/, '').replace(/^\((.*)\)$/, '$1') || 'rejected' });
    else if (p.flag === 'deleted') result.deleted.push(p.ref);
    else if (p.flag === 'up-to-date') result.unchanged++;
    else result.updated.push(p.ref);
  }
  return result;
}

export function describeResult(r: TargetResult): string {
  const parts = [`${r.updated.length} updated`, `${r.deleted.length} deleted`, `${r.unchanged} unchanged`];
  if (r.rejected.length > 0) parts.push(`${r.rejected.length} rejected: ${r.rejected.map((x) => `${x.ref} (${x.reason})`).join(', ')}`);
  return parts.join(', ');
}
