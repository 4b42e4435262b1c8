import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * Owner-only files and folders under data_dir: the database holds job logs and delivery
 * bodies, the logs hold what builds and apps print, local.token is a credential.
 *
 * data_dir is made 0700 when autopull creates it. An existing data_dir keeps the mode its
 * operator gave it (it may be shared on purpose); the server warns when group or others can
 * read it (see `looseMode`), and the files autopull makes in it are 0600 either way.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Makes `file` 0600: created empty with that mode when `create` and missing, tightened when
 * it exists looser (made by an older autopull). Best effort: a file another user owns (a
 * read-only command run as someone else) is left as it is, and whatever then opens it
 * reports the real problem.
 */
export function ensurePrivateFile(file: string, create: boolean): void {
  try {
    if (create) closeSync(openSync(file, 'a', 0o600));
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch {
    // missing (and not to be created), or not ours
  }
}

/** The mode of `dir` when group or others may read or enter it, else null. */
export function looseMode(dir: string): string | null {
  try {
    const mode = statSync(dir).mode & 0o777;
    return (mode & 0o077) !== 0 ? mode.toString(8).padStart(4, '0') : null;
  } catch {
    return null;
  }
}
