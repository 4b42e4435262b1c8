/**
 * The environment autopull gives every process it runs (builds, start and restart commands,
 * git, hg): its own, minus the variables that a config loaded in this process uses for
 * secrets (config/secret-env.ts says which), minus any variable whose value is one of those
 * secrets (the same token exported under a second name). A git or hg run that needs a
 * credential gets it added explicitly for that run (vcs/git.ts authEnv).
 *
 * The set only grows: after a reload, a variable that held a secret before stays hidden,
 * which is the safe side. Values shorter than MIN_VALUE are matched by name only, so that a
 * secret like "1" does not hide every variable that happens to be 1.
 */
const names = new Set<string>();
const values = new Set<string>();
const MIN_VALUE = 8;

export function hideFromChildren(vars: Iterable<string>, secretValues: Iterable<string | null | undefined> = []): void {
  for (const n of vars) names.add(n);
  for (const v of secretValues) if (v && v.length >= MIN_VALUE) values.add(v);
}

/** Every secret value known now: the literal ones, and the current values of hidden variables. */
export function hiddenValues(base: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set(values);
  for (const n of names) {
    const v = base[n];
    if (v && v.length >= MIN_VALUE) out.add(v);
  }
  return [...out];
}

/** `base` without the hidden variables, then `extra` on top (extra is trusted: autopull's own). */
export function childEnv(extra: NodeJS.ProcessEnv = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const secret = new Set(hiddenValues(base));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (names.has(k) || (v !== undefined && secret.has(v))) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}
