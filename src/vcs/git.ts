import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, type RunOptions } from '../lib/exec.js';
import { parseSha, type Sha } from '../lib/ids.js';
import { urlSecrets } from '../lib/redact.js';

/**
 * The only code that runs git. Caches are bare repositories under data_dir, fetched from the
 * configured url (never a payload's); every branch and tag is kept so that mirrors and tag
 * deploys can use them.
 */
export type GitOptions = Pick<RunOptions, 'signal' | 'onLine' | 'onSpawn' | 'timeoutMs' | 'secrets'>;

export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    LC_ALL: 'C',
    ...extra,
  };
}

export async function git(args: string[], opts: GitOptions & { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return run('git', args, { ...opts, env: opts.env ?? gitEnv() });
}

export async function ensureCache(cacheDir: string): Promise<void> {
  if (existsSync(join(cacheDir, 'HEAD'))) return;
  mkdirSync(dirname(cacheDir), { recursive: true });
  await git(['init', '--bare', '--quiet', cacheDir]);
}

/** Fetches every branch and tag of `url` into the cache, pruning refs deleted at the source. */
export async function fetchAll(cacheDir: string, url: string, opts: GitOptions = {}): Promise<void> {
  await ensureCache(cacheDir);
  await git(['-C', cacheDir, 'fetch', '--prune', '--force', '--no-tags', '--', url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], { ...opts, secrets: urlSecrets(url) });
}

/** The commit `rev` names in the cache (tags peeled), or null when it names none. */
export async function resolveCommit(cacheDir: string, rev: string): Promise<Sha | null> {
  const res = await run('git', ['-C', cacheDir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {
    env: gitEnv(),
    okCodes: [1, 128],
  });
  return res.code === 0 ? parseSha(res.stdout) : null;
}

/** Writes a clean tree of `sha` into `dir` (no .git), with a throw-away index. */
export async function materialise(cacheDir: string, sha: Sha, dir: string, opts: GitOptions = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const index = join(dirname(cacheDir), `.index-${randomBytes(6).toString('hex')}`);
  const env = gitEnv({ GIT_INDEX_FILE: index });
  try {
    await git(['--git-dir', cacheDir, '--work-tree', dir, 'read-tree', sha], { ...opts, env });
    await git(['--git-dir', cacheDir, '--work-tree', dir, 'checkout-index', '--all', '--force'], { ...opts, env });
  } finally {
    rmSync(index, { force: true });
  }
}

/** The remote's heads and tags (not peeled), cheaply: no objects are fetched. */
export async function lsRemote(url: string, opts: GitOptions = {}): Promise<Map<string, string>> {
  const res = await git(['ls-remote', '--heads', '--tags', '--', url], { ...opts, secrets: urlSecrets(url) });
  return parseRefList(res.stdout, /^([0-9a-f]{40,64})\t(refs\/\S+)$/);
}

/** The cache's heads and tags. */
export async function localRefs(cacheDir: string): Promise<Map<string, string>> {
  if (!existsSync(join(cacheDir, 'HEAD'))) return new Map();
  const res = await git(['-C', cacheDir, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  return parseRefList(res.stdout, /^([0-9a-f]{40,64}) (refs\/\S+)$/);
}

function parseRefList(text: string, re: RegExp): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = re.exec(line.trim());
    if (m && !(m[2] as string).endsWith('^{}')) refs.set(m[2] as string, m[1] as string);
  }
  return refs;
}
