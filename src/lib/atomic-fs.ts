import { closeSync, fsyncSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** fsyncs a directory so that a rename in it survives a power cut. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `file` so that readers see the old or the new content, never a mix. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(file));
}

/**
 * Points the symlink `link` at `target` atomically: the new link is made under a temp
 * name and renamed over the old one, so `link` always resolves to the old or the new
 * target. If we die before the rename, only a stray temp link is left (cleaned at start).
 */
export function replaceSymlink(link: string, target: string): void {
  swapSymlink(link, target);
  fsyncDir(dirname(link));
}

/**
 * `replaceSymlink` whose fsync of the folder runs in the thread pool: `link` points at `target`
 * on return (for every reader, and after a crash of this process); the promise resolves once
 * that also survives a power cut. Never rejects (as fsyncDir, a refused fsync is no error).
 */
export function replaceSymlinkSyncLater(link: string, target: string): Promise<void> {
  swapSymlink(link, target);
  return fsyncDirLater(dirname(link));
}

function swapSymlink(link: string, target: string): void {
  const tmp = join(dirname(link), `.${basename(link)}.${randomBytes(4).toString('hex')}.tmp`);
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, link);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function fsyncDirLater(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // as fsyncDir
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
