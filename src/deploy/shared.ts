import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, normalize, isAbsolute } from 'node:path';

/**
 * Links each `shared:` entry from deploy.path/shared into the release, replacing whatever
 * the commit has at that path. A folder entry (trailing /) is created when missing; a
 * missing file is an error, since an app started without its .env is worse than no deploy.
 */
export function linkShared(sharedRoot: string, releaseDir: string, entries: readonly string[]): string[] {
  const linked: string[] = [];
  for (const entry of entries) {
    const isDir = entry.endsWith('/');
    const rel = normalize(entry.replace(/\/+$/, ''));
    if (isAbsolute(rel) || rel.startsWith('..') || rel === '.' || rel === '') {
      throw new Error(`shared entry "${entry}" must be a path inside the release (no leading / or ..)`);
    }
    const source = join(sharedRoot, rel);
    if (!existsSync(source)) {
      if (isDir) mkdirSync(source, { recursive: true });
      else throw new Error(`shared file ${source} does not exist: create it (it is linked into every release as ${rel})`);
    }
    const target = join(releaseDir, rel);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(relative(dirname(target), source), target);
    linked.push(rel);
  }
  return linked;
}
