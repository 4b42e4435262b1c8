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

export function matchesAny(value: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(value));
}

export function isGlob(s: string): boolean {
  return /[*?]/.test(s);
}
