import { constants, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Paths inside a tree that autopull does not trust (a release: a commit's files, symlinks
 * included). `insidePath` walks a relative path one folder at a time with lstat and refuses
 * a symbolic link on the way, so whatever autopull then does at the returned path happens
 * inside `root`, never through a link the commit made. The last component is not checked:
 * the caller decides (remove a link itself, or open it with O_NOFOLLOW).
 *
 * Race: the check and the use are two steps. That is safe for a release while autopull alone
 * touches it (after materialise, before the build runs); the build's own commands run the
 * commit's code anyway.
 */
export class LinkInPathError extends Error {
  override name = 'LinkInPathError';
  constructor(
    /** The link, relative to the root, and where it points. */
    readonly link: string,
    readonly target: string,
  ) {
    super(`${link} is a symbolic link (-> ${target})`);
  }
}

/** The segments of a relative path, or null when it is absolute or has a `..` segment. */
export function relativeSegments(rel: string): string[] | null {
  if (rel.startsWith('/')) return null;
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') ? null : parts;
}

/**
 * `root/rel`, after checking that no folder on the way (below `root`) is a symbolic link or
 * a file. With `create`, missing folders are made (one mkdir each: never through a link).
 * Throws LinkInPathError for a link, an Error for a file on the way or a missing folder.
 */
export function insidePath(root: string, rel: string, opts: { create?: boolean } = {}): string {
  const parts = relativeSegments(rel);
  if (parts === null || parts.length === 0) throw new Error(`"${rel}" is not a path inside ${root}`);
  let sub = '';
  for (const part of parts.slice(0, -1)) {
    sub = sub ? `${sub}/${part}` : part;
    const abs = join(root, sub);
    let st;
    try {
      st = lstatSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) throw err;
      mkdirSync(abs);
      continue;
    }
    if (st.isSymbolicLink()) throw new LinkInPathError(sub, readlinkSync(abs));
    if (!st.isDirectory()) throw new Error(`${sub} is a file, not a folder`);
  }
  return join(root, ...parts);
}

/** Reads `root/rel` without following any link below `root` (the last one included). */
export function readFileInside(root: string, rel: string): Buffer {
  const file = insidePath(root, rel);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
