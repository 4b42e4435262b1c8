import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare repository on disk, standing in for the git host. */
export function bareRemote(path: string): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '--quiet', '--bare', '--initial-branch=main');
  return path;
}

/** A working repository with `origin` set to `remote`. */
export function workRepo(path: string, remote: string): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '--quiet', '--initial-branch=main');
  git(path, 'remote', 'add', 'origin', remote);
  return path;
}

/** Writes files (path -> content), commits them and returns the new commit id. */
export function commit(repo: string, files: Record<string, string>, message = 'change'): string {
  for (const [name, content] of Object.entries(files)) {
    const file = join(repo, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '--allow-empty', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

export function push(repo: string, ref = 'main'): void {
  git(repo, 'push', '--quiet', '--force', 'origin', ref);
}

/** The packs in a cache: each fetch keeps one when fetch.unpackLimit is 1. */
export function packCount(cache: string): number {
  return readdirSync(join(cache, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
}

/** A cache whose next `gc --auto` repacks (in the foreground) as soon as it holds two packs. */
export function eagerGc(cache: string): void {
  git(cache, 'config', 'gc.autoDetach', 'false');
  git(cache, 'config', 'fetch.unpackLimit', '1');
  git(cache, 'config', 'gc.autoPackLimit', '1');
}
