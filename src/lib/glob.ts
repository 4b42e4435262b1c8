/**
 * Ref globs as users write them in `branches:` and `tags:`: `*` matches any run of
 * characters (slashes included, as in git refspecs), `?` one character. Everything else is
 * literal.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Compiled globs: the config's few globs are matched on every delivery. Bounded, in case globs come from elsewhere. */
const compiled = new Map<string, RegExp>();

export function matchesAny(value: string, globs: readonly string[]): boolean {
  return globs.some((g) => {
    let re = compiled.get(g);
    if (!re) {
      if (compiled.size >= 1000) compiled.clear();
      re = globToRegExp(g);
      compiled.set(g, re);
    }
    return re.test(value);
  });
}

export function isGlob(s: string): boolean {
  return /[*?]/.test(s);
}
