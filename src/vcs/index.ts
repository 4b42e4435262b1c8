import { join } from 'node:path';
import type { Sha } from '../lib/ids.js';
import { autoGc, fetchAll, localRefs, materialise, materialiseAhead, type Materialiser, remoteHead, remoteRefs, resolveCommit, type GitAuth, type GitOptions, type RefMap } from './git.js';
import { hgFetch, hgGitExport, hgMaterialise, hgProbe, hgRemoteHead, hgResolve } from './hg.js';

/**
 * The seam between jobs and version control: a deploy or a mirror asks for these and does
 * not care whether git or hg answers. Ref names are git's (refs/heads/X, refs/tags/X); hg.ts
 * says how they map to branches, bookmarks and tags.
 */
export type { Materialiser } from './git.js';

export interface MirrorSource {
  /** A git repository holding every object the refs name. */
  gitDir: string;
  refs: RefMap;
  /** The branch that stands for hg's default branch (renamed per target), or null for git. */
  hgDefault: string | null;
  /** Source names that cannot be git refs, with the reason. */
  skipped: string[];
}

export interface Vcs {
  kind: 'git' | 'hg';
  /** Where the cache of `repo` lives under data_dir. */
  cacheDir(dataDir: string, repo: string): string;
  /** Brings the cache level with `url` (every branch, bookmark and tag). */
  fetch(cache: string, url: string, auth: GitAuth, opts?: GitOptions): Promise<void>;
  /** The commit/changeset id a ref (or a full id) names in the cache, or null. */
  resolve(cache: string, ref: string): Promise<Sha | null>;
  /** A clean tree of `id` (no .git, .hg or archive metadata) in `dir`. */
  materialise(cache: string, id: Sha, dir: string, opts?: GitOptions): Promise<void>;
  /** `materialise` with its process started now, before the fetch, for a commit named later (git only). */
  materialiseAhead?(cache: string, opts?: GitOptions): Materialiser;
  /** What `ref` points to at `url` now, without fetching (for polling). */
  remoteHead(url: string, ref: string, auth: GitAuth): Promise<string | null>;
  /** The git view of the cache that mirrors push from. */
  mirrorSource(cache: string, opts?: GitOptions): Promise<MirrorSource>;
  /** Whether `url` answers (`git ls-remote`, `hg identify`): resolves, or throws the tool's message. */
  probe(url: string, auth: GitAuth, opts?: GitOptions): Promise<void>;
  /** Housekeeping of the cache that `fetch` leaves to be run later, off a deploy's path (git: `gc --auto`). */
  upkeep?(cache: string, opts?: GitOptions): Promise<void>;
}

export const gitVcs: Vcs = {
  kind: 'git',
  cacheDir: (dataDir, repo) => join(dataDir, 'repos', `${repo}.git`),
  fetch: (cache, url, auth, opts) => fetchAll(cache, url, opts, auth),
  resolve: resolveCommit,
  materialise,
  materialiseAhead,
  remoteHead: (url, ref, auth) => remoteHead(url, ref, auth),
  mirrorSource: async (cache) => ({ gitDir: cache, refs: await localRefs(cache), hgDefault: null, skipped: [] }),
  probe: async (url, auth, opts) => {
    await remoteRefs(url, auth, opts);
  },
  upkeep: autoGc,
};

export const hgVcs: Vcs = {
  kind: 'hg',
  cacheDir: (dataDir, repo) => join(dataDir, 'repos', `${repo}.hg`),
  fetch: (cache, url, auth, opts) => hgFetch(cache, url, opts, auth),
  resolve: hgResolve,
  materialise: hgMaterialise,
  remoteHead: (url, ref, auth) => hgRemoteHead(url, ref, auth),
  mirrorSource: async (cache, opts) => {
    const ex = await hgGitExport(cache, opts);
    return { gitDir: ex.gitDir, refs: ex.refs, hgDefault: 'refs/heads/default', skipped: ex.skipped };
  },
  probe: hgProbe,
};

export function vcsFor(kind: 'git' | 'hg'): Vcs {
  return kind === 'hg' ? hgVcs : gitVcs;
}

/** Where data_dir keeps host keys learned on first contact (StrictHostKeyChecking=accept-new). */
export function knownHostsFile(dataDir: string): string {
  return join(dataDir, 'ssh', 'known_hosts');
}

/** Credentials for fetching a repo's source: its ssh_key, if any. */
export function repoAuth(dataDir: string, sshKey: string | undefined): GitAuth {
  return sshKey ? { sshKey, knownHosts: knownHostsFile(dataDir) } : {};
}
