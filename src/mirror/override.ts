import { matchesAny } from '../lib/glob.js';

/**
 * Target override (the old service's `?user=foo&project=fizz`): a mirror url may hold
 * `{owner}` and `{name}`, filled from the hook URL's query, and used only when the result
 * matches one of the target's `allow_targets` globs. Pure: the webhook pipeline and the
 * mirror step both call it, so a config change between the two is checked again.
 */
export interface OverrideParams {
  owner: string;
  name: string;
}

export type OverrideDecision = { kind: 'none' } | { kind: 'ok'; params: OverrideParams } | { kind: 'refused'; reason: string };

export interface TemplatedTarget {
  url: string;
  allow_targets?: string[] | undefined;
}

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

export function hasPlaceholders(url: string): boolean {
  return url.includes('{owner}') || url.includes('{name}');
}

function pathSafe(what: string, v: string): string | null {
  if (!SAFE.test(v) || v.includes('..')) {
    return `?${what}= must be 1-100 characters of A-Z a-z 0-9 . _ - (no /, .., :, spaces), not ${JSON.stringify(v.slice(0, 40))}`;
  }
  return null;
}

/** Fills one target; the reason says why the result is refused. */
export function fillTarget(target: TemplatedTarget, p: OverrideParams): { ok: true; url: string } | { ok: false; reason: string } {
  const url = target.url.replaceAll('{owner}', p.owner).replaceAll('{name}', p.name);
  const allow = target.allow_targets ?? [];
  if (allow.length === 0) return { ok: false, reason: `mirror target ${target.url} has no allow_targets, so it cannot be filled from the query` };
  if (!matchesAny(url, allow)) return { ok: false, reason: `mirror target ${url} matches none of allow_targets (${allow.join(', ')})` };
  return { ok: true, url };
}

/** Decides a delivery's override from its query (`owner`/`name`, or the legacy `user`/`project`). */
export function decideOverride(repoName: string, targets: readonly TemplatedTarget[] | undefined, query: Readonly<Record<string, string | undefined>>): OverrideDecision {
  const owner = query.owner ?? query.user;
  const name = query.name ?? query.project;
  if (owner === undefined && name === undefined) return { kind: 'none' };
  if (owner === undefined || name === undefined) return { kind: 'refused', reason: 'a target override needs both ?owner= and ?name= (or ?user= and ?project=)' };
  const problem = pathSafe(query.owner !== undefined ? 'owner' : 'user', owner) ?? pathSafe(query.name !== undefined ? 'name' : 'project', name);
  if (problem) return { kind: 'refused', reason: problem };
  const templated = (targets ?? []).filter((t) => hasPlaceholders(t.url));
  if (templated.length === 0) return { kind: 'refused', reason: `repo ${repoName} has no mirror target with {owner}/{name} placeholders` };
  for (const t of templated) {
    const filled = fillTarget(t, { owner, name });
    if (!filled.ok) return { kind: 'refused', reason: filled.reason };
  }
  return { kind: 'ok', params: { owner, name } };
}
