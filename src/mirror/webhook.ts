import type { RepoConfig } from '../config/load.js';
import type { JobKind, JobParams } from '../store/store.js';
import { decideOverride } from './override.js';

export type MirrorDecision =
  | { kind: 'refused'; reason: string }
  /** The push deploys (or needs no job); `extra` carries an override onto the job. */
  | { kind: 'with-deploy'; extra: { params?: JobParams } }
  /** No tracked ref moved, but the repo mirrors: a `mirror` job (every ref, deletions too). */
  | { kind: 'mirror-only'; extra: { kind: JobKind; params?: JobParams } };

/**
 * What a push means for a repo's mirrors, for the webhook pipeline: a refused target
 * override (403 with the reason), or the job fields to add. Pure.
 */
export function mirrorDecision(repo: Pick<RepoConfig, 'name' | 'mirror'>, query: Readonly<Record<string, string | undefined>>, deploys: boolean, anyUpdate: boolean): MirrorDecision {
  const override = decideOverride(repo.name, repo.mirror, query);
  if (override.kind === 'refused') return override;
  const params = override.kind === 'ok' ? { params: override.params } : {};
  if (!deploys && anyUpdate && repo.mirror && repo.mirror.length > 0) return { kind: 'mirror-only', extra: { kind: 'mirror', ...params } };
  return { kind: 'with-deploy', extra: params };
}
