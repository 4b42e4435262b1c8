import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sharedEntryProblem } from '../config/schema.js';
import { insidePath, LinkInPathError } from '../lib/inside-path.js';

/**
 * Links each `shared:` entry from deploy.path/shared into the release, replacing whatever
 * the commit has at that path. A folder entry (trailing /) is created when missing; a
 * missing file is an error, since an app started without its .env is worse than no deploy.
 *
 * The release holds the commit's files, symlinks included, and nothing here follows one:
 * a folder on the entry's way that the commit made a link fails the deploy (naming the
 * entry and the link) before anything is removed or made; an entry that is itself a link
 * is replaced (the link goes, never what it points to). Runs after materialise and before
 * the build, while nothing else writes in the release.
 */
export function linkShared(sharedRoot: string, releaseDir: string, entries: readonly string[]): string[] {
  const linked: string[] = [];
  for (const entry of entries) {
    const problem = sharedEntryProblem(entry);
    if (problem) throw new Error(`shared entry ${problem}`);
    const isDir = entry.endsWith('/');
    const rel = entry.split('/').filter((p) => p !== '' && p !== '.').join('/');
    const source = join(sharedRoot, rel);
    if (!existsSync(source)) {
      if (isDir) mkdirSync(source, { recursive: true });
      else throw new Error(`shared file ${source} does not exist: create it (it is linked into every release as ${rel})`);
    }
    const target = releasePath(releaseDir, entry, rel);
    // rmSync looks at the entry with lstat: a link is removed itself, a folder with its content
    // (links inside it removed, not followed).
    rmSync(target, { recursive: true, force: true });
    symlinkSync(relative(dirname(target), source), target);
    linked.push(rel);
  }
  return linked;
}

/** `releaseDir/rel` with its folders made, refusing a link or a file on the way. */
function releasePath(releaseDir: string, entry: string, rel: string): string {
  try {
    return insidePath(releaseDir, rel, { create: true });
  } catch (err) {
    if (err instanceof LinkInPathError) {
      throw new Error(
        `shared entry "${entry}": ${err.link} is a symbolic link in the commit (-> ${err.target}); autopull does not write through links from a commit: make ${err.link} a folder in the repository, or change deploy.shared`,
      );
    }
    throw new Error(`shared entry "${entry}": ${(err as Error).message}`);
  }
}
