import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { childEnv } from '../lib/child-env.js';
import { run, type RunOptions } from '../lib/exec.js';
import { parseSha, type Sha } from '../lib/ids.js';
import { refNameProblem } from './ref-name.js';
import { sshCommand, type GitAuth, type GitOptions, type RefMap } from './git.js';

/**
 * The only code that runs Mercurial. The cache is a clone without a working copy under
 * data_dir/repos/<name>.hg, updated with `hg pull` from the configured url.
 *
 * Refs: autopull speaks git ref names everywhere (jobs, `branches:`, `--ref`). For an hg
 * repo, `refs/heads/X` names the bookmark X when there is one, else the tipmost open head of
 * the named branch X (`branches: [default]` deploys hg's default branch); `refs/tags/X` names
 * the hg tag X.
 */

export function hgEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return childEnv({ HGPLAIN: '1', HGENCODING: 'utf-8', LC_ALL: 'C', ...extra });
}

/** `--config` arguments for an SSH key (same rules as git: only that key, new hosts remembered). */
function authConfig(auth: GitAuth): string[] {
  if (!auth.sshKey) return [];
  if (auth.knownHosts) mkdirSync(dirname(auth.knownHosts), { recursive: true });
  return ['--config', `ui.ssh=${sshCommand(auth.sshKey, auth.knownHosts ?? '/dev/null')}`];
}

export async function hg(args: string[], opts: GitOptions & Pick<RunOptions, 'okCodes' | 'cwd'> = {}) {
  return run('hg', args, { ...opts, env: hgEnv() });
}

const HGGIT = ['--config', 'extensions.hggit='];

/** Whether `url` answers as an hg repository (`hg identify`); throws hg's message when not. */
export async function hgProbe(url: string, auth: GitAuth = {}, opts: GitOptions = {}): Promise<void> {
  await hg([...authConfig(auth), 'identify', '--', url], opts);
}

/** Clones on first use, then pulls; bookmarks deleted at the source are deleted here too. */
export async function hgFetch(cacheDir: string, url: string, opts: GitOptions = {}, auth: GitAuth = {}): Promise<void> {
  const cfg = authConfig(auth);
  if (!existsSync(join(cacheDir, '.hg'))) {
    mkdirSync(dirname(cacheDir), { recursive: true });
    await hg([...cfg, 'clone', '--noupdate', '--', url, cacheDir], opts);
    return;
  }
  await hg([...cfg, '-R', cacheDir, 'pull', '--', url], opts);
  const remote = await hg([...cfg, 'debugpushkey', url, 'bookmarks'], { signal: opts.signal });
  const keep = new Set(remote.stdout.split('\n').map((l) => l.split('\t')[0]).filter((b) => b));
  const local = await hg(['-R', cacheDir, 'bookmarks', '-T', '{bookmark}\n']);
  const gone = local.stdout.split('\n').filter((b) => b && !keep.has(b));
  if (gone.length > 0) await hg(['-R', cacheDir, 'bookmarks', '--delete', '--', ...gone]);
}

/** A name safe inside a revset string literal. */
function literal(name: string): string | null {
  return /["\\\n]/.test(name) ? null : `"literal:${name}"`;
}

async function firstNode(cacheDir: string, revset: string): Promise<Sha | null> {
  const res = await hg(['-R', cacheDir, 'log', '-r', revset, '-T', '{node}\n', '--limit', '1'], { okCodes: [255] });
  return res.code === 0 ? parseSha(res.stdout.split('\n')[0] ?? '') : null;
}

/** The changeset a ref names in the cache (see the module comment), or null. */
export async function hgResolve(cacheDir: string, ref: string): Promise<Sha | null> {
  if (/^[0-9a-f]{40}$/i.test(ref)) return firstNode(cacheDir, `id("${ref.toLowerCase()}")`);
  if (ref.startsWith('refs/heads/')) {
    const name = literal(ref.slice('refs/heads/'.length));
    if (name === null) return null;
    return (await firstNode(cacheDir, `bookmark(${name})`)) ?? (await firstNode(cacheDir, `max(branch(${name}) and head() and not closed())`)) ?? (await firstNode(cacheDir, `max(branch(${name}))`));
  }
  if (ref.startsWith('refs/tags/')) {
    const name = literal(ref.slice('refs/tags/'.length));
    return name === null ? null : firstNode(cacheDir, `tag(${name})`);
  }
  // A short name (`autopull deploy --ref X`): a bookmark or branch, else a tag.
  if (ref.startsWith('refs/') || ref.startsWith('-')) return null;
  return (await hgResolve(cacheDir, `refs/heads/${ref}`)) ?? hgResolve(cacheDir, `refs/tags/${ref}`);
}

/** Writes a clean tree of `node` into `dir`: no .hg, no .hg_archival.txt. */
export async function hgMaterialise(cacheDir: string, node: Sha, dir: string, opts: GitOptions = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await hg(['-R', cacheDir, '--config', 'ui.archivemeta=false', 'archive', '-r', node, '-t', 'files', '--', dir], opts);
}

/** The changeset a remote's branch, bookmark or tag points to (`hg identify`), for polling. */
export async function hgRemoteHead(url: string, ref: string, auth: GitAuth = {}, opts: GitOptions = {}): Promise<string | null> {
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  const res = await hg([...authConfig(auth), 'identify', '--debug', '-r', name, '--', url], { ...opts, okCodes: [255] });
  return res.code === 0 ? (parseSha(res.stdout.trim().split(/\s+/)[0] ?? '') ?? null) : null;
}

export interface HgGitExport {
  /** The git repository hg-git keeps inside the cache (.hg/git), holding every exported commit. */
  gitDir: string;
  /** Branch heads as refs/heads/<branch> (hg's default branch as refs/heads/default), bookmarks, tags. */
  refs: RefMap;
  /** hg names that are not valid git ref names, left out with the reason. */
  skipped: string[];
}

/**
 * Exports every changeset to git with hg-git (`hg gexport`, incremental), then names the git
 * commits: the tipmost open head of each named branch, each bookmark (a bookmark wins over a
 * branch of the same name), each tag. hg-git keeps what git has no field for (a named branch
 * other than default, renames) in a `--HG--` block at the end of the commit message, so the
 * history can go back to hg unchanged.
 */
export async function hgGitExport(cacheDir: string, opts: GitOptions = {}): Promise<HgGitExport> {
  await hg(['-R', cacheDir, ...HGGIT, 'gexport'], opts);
  const refs: RefMap = new Map();
  const skipped: string[] = [];
  const add = (ref: string, gitnode: string) => {
    const problem = refNameProblem(ref);
    if (problem) skipped.push(`${ref} (${problem})`);
    else if (/^[0-9a-f]{40}$/.test(gitnode)) refs.set(ref, gitnode);
  };
  const lines = async (revset: string, template: string) =>
    (await hg(['-R', cacheDir, ...HGGIT, 'log', '-r', revset, '-T', template])).stdout.split('\n').filter((l) => l.includes('\t'));
  for (const line of await lines('sort(head() and not closed(), rev)', '{branch}\t{gitnode}\n')) {
    const [branch, node] = line.split('\t') as [string, string];
    add(`refs/heads/${branch}`, node);
  }
  for (const line of await lines('bookmark()', '{join(bookmarks, "\\t")}\t{gitnode}\n')) {
    const parts = line.split('\t');
    const node = parts.pop() as string;
    for (const b of parts) add(`refs/heads/${b}`, node);
  }
  for (const line of await lines('tag()', '{join(tags, "\\t")}\t{gitnode}\n')) {
    const parts = line.split('\t');
    const node = parts.pop() as string;
    for (const tag of parts) if (tag !== 'tip') add(`refs/tags/${tag}`, node);
  }
  return { gitDir: join(cacheDir, '.hg', 'git'), refs, skipped };
}
