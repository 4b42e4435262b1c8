import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ENV = { ...process.env, HGPLAIN: '1', HGRCPATH: '', HGENCODING: 'utf-8', LC_ALL: 'C' };

export function hg(cwd: string, ...args: string[]): string {
  return execFileSync('hg', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A Mercurial repository with a working copy, standing in for the hg host. */
export function hgRepo(path: string): string {
  mkdirSync(path, { recursive: true });
  hg(path, 'init');
  return path;
}

/** Writes files, commits them as `user` and returns the new changeset id. */
export function hgCommit(repo: string, files: Record<string, string>, message: string, user = 'Alice Example <alice@example.com>'): string {
  for (const [name, content] of Object.entries(files)) {
    const file = join(repo, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  hg(repo, 'addremove', '-q');
  hg(repo, 'commit', '-q', '-u', user, '-m', message);
  return hg(repo, 'log', '-r', '.', '-T', '{node}');
}
