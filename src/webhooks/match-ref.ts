import type { RepoConfig } from '../config/load.js';
import { matchesAny } from '../lib/glob.js';
import { refKind } from '../vcs/ref-name.js';

/** Whether a push to `ref` should deploy `repo`: branch globs for heads, tag globs for tags. */
export function tracksRef(repo: Pick<RepoConfig, 'branches' | 'tags'>, ref: string): boolean {
  const { kind, name } = refKind(ref);
  if (kind === 'branch') return matchesAny(name, repo.branches);
  if (kind === 'tag') return matchesAny(name, repo.tags);
  return false;
}

export function describeTracked(repo: Pick<RepoConfig, 'branches' | 'tags'>): string {
  const parts = [`branches: ${repo.branches.join(', ') || '(none)'}`];
  if (repo.tags.length > 0) parts.push(`tags: ${repo.tags.join(', ')}`);
  return parts.join('; ');
}
