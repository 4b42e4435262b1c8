import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { childEnv } from '../lib/child-env.js';
import { run, runFed, type RunOptions } from '../lib/exec.js';
import { parseSha, type Sha } from '../lib/ids.js';
import { urlSecrets } from '../lib/redact.js';
import { refNameProblem } from './ref-name.js';

/**
 * The only code that runs git. Caches are bare repositories under data_dir, fetched from the
 * configured url (never a payload's); every branch and tag is kept so that mirrors and tag
 * deploys can use them.
 */
export type GitOptions = Pick<RunOptions, 'signal' | 'onLine' | 'onSpawn' | 'timeoutMs' | 'secrets'>;

/** git's environment: without the config's secrets (lib/child-env.ts), never prompting; `extra` adds a credential for one run. */
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return childEnv({
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    LC_ALL: 'C',
    ...extra,
  });
}

export async function git(args: string[], opts: GitOptions & { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return run('git', args, { ...opts, env: opts.env ?? gitEnv() });
}

export async function ensureCache(cacheDir: string): Promise<void> {
  if (existsSync(join(cacheDir, 'HEAD'))) return;
  mkdirSync(dirname(cacheDir), { recursive: true });
  await git(['init', '--bare', '--quiet', cacheDir]);
}

/**
 * A fetch without git's auto maintenance: by default a fetch ends by starting one more git
 * (`maintenance run --auto`, `gc --auto` before git 2.29), a few ms each time that a deploy
 * waited for before its checkout. `autoGc` runs that check after the job instead (runner/
 * cache-upkeep.ts). Config keys, not options: a git that does not know one ignores it.
 */
const NO_AUTO_MAINTENANCE = ['-c', 'maintenance.auto=false', '-c', 'gc.auto=0'];

/** Fetches every branch and tag of `url` into the cache, pruning refs deleted at the source. */
export async function fetchAll(cacheDir: string, url: string, opts: GitOptions = {}, auth: GitAuth = {}): Promise<void> {
  await ensureCache(cacheDir);
  const { args, env } = authEnv(auth);
  const refspecs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];
  await git([...args, ...NO_AUTO_MAINTENANCE, '-C', cacheDir, 'fetch', '--prune', '--force', '--no-tags', '--', url, ...refspecs], { ...opts, env, secrets: urlSecrets(url) });
}

/**
 * `git gc --auto` in the cache: the upkeep a plain fetch runs itself (packs loose objects once
 * there are many; nothing otherwise). In the foreground (`gc.autoDetach=false`), so that the
 * caller's signal ends it. Nothing to do for a cache not made yet.
 */
export async function autoGc(cacheDir: string, opts: GitOptions = {}): Promise<void> {
  if (!existsSync(join(cacheDir, 'HEAD'))) return;
  await git(['-c', 'gc.autoDetach=false', '--git-dir', cacheDir, 'gc', '--auto', '--quiet'], opts);
}

/** The commit `rev` names in the cache (tags peeled), or null when it names none. */
export async function resolveCommit(cacheDir: string, rev: string): Promise<Sha | null> {
  const branch = branchHead(cacheDir, rev);
  if (branch !== null) return branch;
  const res = await run('git', ['-C', cacheDir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {
    env: gitEnv(),
    okCodes: [1, 128],
  });
  return res.code === 0 ? parseSha(res.stdout) : null;
}

/**
 * A branch's commit read from the cache's files, without starting git: the loose ref that a
 * fetch writes, else its line in packed-refs. Null (ask git) for anything else: a tag (it
 * may need peeling), a symbolic ref, a name not found, a reftable repository.
 */
function branchHead(cacheDir: string, rev: string): Sha | null {
  // A name git refuses (refs/heads/./main) is left to git: a path join would find another ref's file.
  if (!rev.startsWith('refs/heads/') || refNameProblem(rev) !== null || existsSync(join(cacheDir, 'reftable'))) return null;
  try {
    return parseSha(readFileSync(join(cacheDir, rev), 'utf8'));
  } catch {
    // not loose: packed
  }
  try {
    const packed = readFileSync(join(cacheDir, 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((l) => l.endsWith(` ${rev}`));
    return line ? parseSha(line.slice(0, line.indexOf(' '))) : null;
  } catch {
    return null;
  }
}

/** Writes a clean tree of `sha` into `dir` (no .git), with a throw-away index. */
/** An index file of its own for one checkout (beside the cache, removed after), and the env that names it. */
function scratchIndex(cacheDir: string): { index: string; env: NodeJS.ProcessEnv } {
  const index = join(dirname(cacheDir), `.index-${randomBytes(6).toString('hex')}`);
  return { index, env: gitEnv({ GIT_INDEX_FILE: index }) };
}

export async function materialise(cacheDir: string, sha: Sha, dir: string, opts: GitOptions = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { index, env } = scratchIndex(cacheDir);
  try {
    // One git: read the tree into the empty index and write its files (-u) into dir.
    await git(['--git-dir', cacheDir, '--work-tree', dir, 'read-tree', '--reset', '-u', sha], { ...opts, env });
  } finally {
    rmSync(index, { force: true });
  }
}

/** A checkout whose process was started before its commit was known (`materialiseAhead`). */
export interface Materialiser {
  /** `materialise(cache, id, dir)` by the waiting process; once at most. */
  run(id: Sha, dir: string): Promise<void>;
  /** Lets the waiting process go unused; resolves once it has exited (at once after `run`). */
  cancel(): Promise<void>;
}

/**
 * Waits for a commit and a folder on stdin (one line each; end of input: exits 0), then becomes
 * the same read-tree as `materialise`. Values arrive as variables, never as shell text.
 */
const READ_TREE_AHEAD = 'IFS= read -r sha || exit 0; IFS= read -r dir || exit 0; exec git --git-dir "$1" --work-tree "$dir" read-tree --reset -u "$sha"';

/**
 * `materialise` with its process started ahead, while the fetch runs: a Node process blocks
 * until each child it spawns has exec'd (2-6 ms of a deploy's path per process, more under
 * load); this one is paid beside the fetch, and the checkout starts the moment `run` says
 * what to write. A commit id or a folder that cannot go on one line is checked out the plain way.
 */
export function materialiseAhead(cacheDir: string, opts: GitOptions = {}): Materialiser {
  const { index, env } = scratchIndex(cacheDir);
  const fed = runFed('sh', ['-c', READ_TREE_AHEAD, 'materialise', cacheDir], { ...opts, env, display: 'git read-tree --reset -u (started ahead)' });
  let used = false;
  return {
    async run(id, dir) {
      if (used) throw new Error('materialiseAhead: run more than once');
      used = true;
      if (!/^[0-9a-f]{40,64}$/.test(id) || /[\n\r]/.test(dir)) {
        fed.send(null);
        await fed.ended;
        return materialise(cacheDir, id, dir, opts);
      }
      mkdirSync(dir, { recursive: true });
      fed.send(`${id}\n${dir}\n`);
      try {
        await fed.done;
      } finally {
        rmSync(index, { force: true });
      }
    },
    async cancel() {
      if (used) return;
      used = true;
      fed.send(null);
      await fed.ended;
    },
  };
}

/** ref -> object id (tags not peeled: a mirror copies the tag object itself). */
export type RefMap = Map<string, string>;

function parseRefLines(text: string): RefMap {
  const refs: RefMap = new Map();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64})[\t ](refs\/\S+)$/.exec(line.trim());
    if (m && !(m[2] as string).endsWith('^{}')) refs.set(m[2] as string, m[1] as string);
  }
  return refs;
}

/** Every branch and tag of a local repository. */
export async function localRefs(gitDir: string): Promise<RefMap> {
  const res = await git(['--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  return parseRefLines(res.stdout);
}

/**
 * How git reaches a remote with credentials: an SSH key through GIT_SSH_COMMAND (only that
 * key, new hosts accepted and remembered in data_dir's known_hosts), or an HTTPS token
 * through the environment and a constant credential helper. The token is never in argv,
 * in the helper's text or in a URL, so it cannot reach a log through them.
 */
export interface GitAuth {
  sshKey?: string;
  knownHosts?: string;
  token?: string;
}

export const TOKEN_ENV = 'AUTOPULL_GIT_TOKEN';
/** Answers `get` with the token from the environment; keeps a username given in the URL. */
export const CREDENTIAL_HELPER = `!f() { test "$1" = get || exit 0; u=; while read -r l; do case "$l" in username=*) u=1;; esac; done; test -n "$u" || echo username=x-access-token; echo "password=$${TOKEN_ENV}"; }; f`;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sshCommand(key: string, knownHosts: string): string {
  return ['ssh', '-i', shellQuote(key), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', shellQuote(`UserKnownHostsFile=${knownHosts}`), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30'].join(' ');
}

export function authEnv(auth: GitAuth): { args: string[]; env: NodeJS.ProcessEnv } {
  const extra: NodeJS.ProcessEnv = {};
  const args: string[] = [];
  if (auth.sshKey) {
    if (auth.knownHosts) mkdirSync(dirname(auth.knownHosts), { recursive: true });
    extra.GIT_SSH_COMMAND = sshCommand(auth.sshKey, auth.knownHosts ?? '/dev/null');
  }
  if (auth.token !== undefined) {
    extra[TOKEN_ENV] = auth.token;
    // The empty value first drops helpers from the user's and system's config.
    args.push('-c', 'credential.helper=', '-c', `credential.helper=${CREDENTIAL_HELPER}`);
  }
  return { args, env: gitEnv(extra) };
}

/** The branches and tags of a remote (`git ls-remote`). */
export async function remoteRefs(url: string, auth: GitAuth, opts: GitOptions & { display?: string } = {}): Promise<RefMap> {
  const { args, env } = authEnv(auth);
  const res = await run('git', [...args, 'ls-remote', '--refs', '--', url], { ...opts, env, display: opts.display, secrets: urlSecrets(url) });
  return parseRefLines(res.stdout);
}

/** The commit a remote's ref points to, for polling (null when the ref does not exist there). */
export async function remoteHead(url: string, ref: string, auth: GitAuth = {}, opts: GitOptions = {}): Promise<string | null> {
  const { args, env } = authEnv(auth);
  const res = await run('git', [...args, 'ls-remote', '--', url, ref], { ...opts, env, secrets: urlSecrets(url) });
  return parseRefLines(res.stdout).get(ref) ?? null;
}

export type PushFlag = 'fast-forward' | 'forced' | 'deleted' | 'new' | 'rejected' | 'up-to-date';
export interface PushedRef {
  ref: string;
  flag: PushFlag;
  summary: string;
}
const FLAGS: Record<string, PushFlag> = { ' ': 'fast-forward', '+': 'forced', '-': 'deleted', '*': 'new', '!': 'rejected', '=': 'up-to-date' };

/** Parses `git push --porcelain`: one line per ref, `<flag>\t<from>:<to>\t<summary>`. */
export function parsePorcelain(stdout: string): PushedRef[] {
  const out: PushedRef[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([ +\-*!=])\t([^\t]*):([^\t]+)\t(.*)$/.exec(line);
    if (m) out.push({ ref: m[3] as string, flag: FLAGS[m[1] as string] as PushFlag, summary: (m[4] as string).trim() });
  }
  return out;
}

/**
 * Pushes refspecs from a local repository without --atomic, so a rejected ref does not hold
 * back the others. Returns each ref's fate; throws when git reports no ref at all (the
 * remote could not be reached, authentication failed).
 */
export async function pushRefs(gitDir: string, url: string, refspecs: string[], auth: GitAuth, opts: GitOptions & { display?: string } = {}): Promise<PushedRef[]> {
  if (refspecs.length === 0) return [];
  const { args, env } = authEnv(auth);
  const res = await run('git', [...args, '--git-dir', gitDir, 'push', '--porcelain', '--no-verify', '--', url, ...refspecs], {
    ...opts,
    env,
    display: opts.display,
    okCodes: [1],
    secrets: urlSecrets(url),
  });
  const refs = parsePorcelain(res.stdout);
  if (res.code !== 0 && refs.length === 0) {
    const tail = (res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${opts.display ?? `git push ${url}`}: exit ${res.code}${tail ? `: ${tail}` : ''}`);
  }
  return refs;
}
