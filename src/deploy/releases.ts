import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compactUtc } from '../lib/time.js';
import { parseReleaseId, shortSha, type ReleaseId } from '../lib/ids.js';

/** deploy.path layout: releases/<id>/, current -> releases/<id>, shared/. */
export interface Layout {
  root: string;
  releases: string;
  current: string;
  shared: string;
}

export function layout(root: string): Layout {
  return { root, releases: join(root, 'releases'), current: join(root, 'current'), shared: join(root, 'shared') };
}

/** `20261122T031500-1a2b3c4`, with `-2`, `-3` when that name is taken (a redeploy in the same second). */
export function newReleaseId(now: Date, sha: string, taken: (id: string) => boolean): ReleaseId {
  const base = `${compactUtc(now)}-${shortSha(sha)}`;
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id as ReleaseId;
}

/** The release `current` points at, read from the link on disk (the truth after a crash). */
export function readCurrent(l: Layout): ReleaseId | null {
  try {
    if (!lstatSync(l.current).isSymbolicLink()) return null;
    return parseReleaseId(basename(readlinkSync(l.current)));
  } catch {
    return null;
  }
}

/** Release directories on disk, newest first. */
export function listReleaseDirs(l: Layout): ReleaseId[] {
  if (!existsSync(l.releases)) return [];
  return readdirSync(l.releases)
    .map((n) => parseReleaseId(n))
    .filter((n): n is ReleaseId => n !== null)
    .sort()
    .reverse();
}

/** The short sha a release id carries. */
export function releaseShortSha(id: string): string {
  return id.split('-')[1] ?? '';
}
