import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config, RepoConfig } from '../config/load.js';
import { serverInfoPath, type ServerInfo } from '../daemon/paths.js';
import { errorMessage } from '../lib/errors.js';
import { isSameProcessAlive } from '../lib/proc.js';
import { redactUrl } from '../lib/redact.js';
import type { GitAuth } from '../vcs/git.js';
import { gitVcs, knownHostsFile, repoAuth, vcsFor, type Vcs } from '../vcs/index.js';
import { runningRuntime } from '../runtime/main.js';
import { runtimePaths, socketPathProblem } from '../runtime/paths.js';

/**
 * `autopull check --deep`: what only this machine can tell, each problem with the config
 * path it is about. Remotes answer (`git ls-remote`, `hg identify`, in parallel, each within
 * `timeoutMs`); data_dir and deploy paths are folders this user can write (or create); the
 * `shared:` files exist in deploy.path/shared; the ports autopull will bind are free (unless
 * autopull itself, or its runtime for the proxies, runs here and holds them) and no two of
 * them are the same.
 */
export interface DeepResult {
  problems: string[];
  /** What was not checked, and why. */
  notes: string[];
}

const who = (): string => {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
};

/** Why autopull could not write (or create) the folder `path`, or null. */
export function folderProblem(path: string): string | null {
  let existing = path;
  while (!existsSync(existing)) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  const made = existing === path ? '' : `${path} cannot be created: `;
  if (!statSync(existing).isDirectory()) return `${made}${existing} is a file, not a folder`;
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    return `${made}${existing} is not writable by ${who()} (give it to this user: sudo chown ${who()} ${existing})`;
  }
  return null;
}

function pathProblems(config: Config): string[] {
  const problems: string[] = [];
  const data = folderProblem(config.data_dir);
  if (data) problems.push(`data_dir: ${data}`);
  const socket = [...config.repos.values()].some((r) => r.deploy?.proxy) ? socketPathProblem(config.data_dir) : null;
  if (socket) problems.push(`data_dir: ${socket}`);
  for (const repo of config.repos.values()) {
    const d = repo.deploy;
    if (!d) continue;
    const at = `repos.${repo.name}.deploy`;
    const path = folderProblem(d.path);
    if (path) problems.push(`${at}.path: ${path}`);
    d.shared.forEach((entry, i) => {
      const rel = entry.split('/').filter((p) => p !== '' && p !== '.').join('/');
      const source = join(d.path, 'shared', rel);
      if (entry.endsWith('/')) {
        if (existsSync(source) && !statSync(source).isDirectory()) problems.push(`${at}.shared[${i}]: ${source} is a file, but "${entry}" names a folder`);
      } else if (!existsSync(source)) {
        problems.push(`${at}.shared[${i}]: ${source} does not exist: create it (it is linked into every release as ${rel})`);
      }
    });
  }
  return problems;
}

/** Why `port` cannot be bound (on `host`, or every address), or null. */
function bindProblem(host: string | undefined, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const on = host ? ` on ${host}` : '';
      if (err.code === 'EADDRINUSE') resolve(`port ${port} is in use${on}: stop what listens there, or pick another port`);
      else if (err.code === 'EACCES') resolve(`port ${port} needs privileges (below 1024): pick a port above 1023, or put a reverse proxy in front`);
      else if (err.code === 'EADDRNOTAVAIL') resolve(`${host ?? '?'} is not an address of this machine`);
      else resolve(`cannot listen on ${host ?? '*'}:${port}: ${err.code ?? err.message}`);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** The server running on this data_dir, if any (its ports are its own). */
function runningServer(config: Config): ServerInfo | null {
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(config), 'utf8')) as ServerInfo;
    return isSameProcessAlive(info.pid, null) ? info : null;
  } catch {
    return null;
  }
}

async function portProblems(config: Config, notes: string[]): Promise<string[]> {
  const wanted: { at: string; host: string | undefined; port: number; proxy?: boolean }[] = [];
  if (config.listen.port !== 0) wanted.push({ at: 'listen', host: config.listen.host, port: config.listen.port });
  for (const repo of config.repos.values()) {
    const d = repo.deploy;
    if (d?.proxy) {
      const [host, port] = [d.proxy.slice(0, d.proxy.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(d.proxy.slice(d.proxy.lastIndexOf(':') + 1))];
      if (port !== 0) wanted.push({ at: `repos.${repo.name}.deploy.proxy`, host, port, proxy: true });
    }
    // Only a supervised app's port is autopull's to bind; with restart: the app runs there already.
    if (d?.start && d.port !== undefined) wanted.push({ at: `repos.${repo.name}.deploy.port`, host: undefined, port: d.port });
  }
  const problems: string[] = [];
  const first = new Map<number, string>();
  for (const w of wanted) {
    const before = first.get(w.port);
    if (before) problems.push(`${w.at}: port ${w.port} is also ${before}: each needs its own`);
    else first.set(w.port, w.at);
  }
  const server = runningServer(config);
  if (server) {
    notes.push(`ports not checked: autopull runs on this data_dir (pid ${server.pid}, ${server.url}) and holds them`);
    return problems;
  }
  // The proxies live in the runtime process, which outlives serve: while it runs, it holds them.
  const runtime = runningRuntime(runtimePaths(config.data_dir).pid);
  if (runtime !== null && wanted.some((w) => w.proxy)) notes.push(`proxy ports not checked: the autopull runtime (pid ${runtime}) holds them`);
  for (const w of wanted) {
    if (w.proxy && runtime !== null) continue;
    const p = await bindProblem(w.host, w.port);
    if (p) problems.push(`${w.at}: ${p}`);
  }
  return problems;
}

async function probe(at: string, vcs: Vcs, url: string, auth: GitAuth, timeoutMs: number): Promise<string | null> {
  try {
    await vcs.probe(url, auth, { timeoutMs });
    return null;
  } catch (err) {
    return `${at}: ${redactUrl(url)} does not answer: ${toolSaid(errorMessage(err).split(url).join(redactUrl(url)))}`;
  }
}

/** From `git ls-remote --refs -- URL: exit 128: fatal: A | fatal: B`, the part after the command: `exit 128: fatal: A`. */
function toolSaid(message: string): string {
  const at = message.search(/: (exit \d+|timed out after|killed by|spawn)/);
  const said = at === -1 ? message : message.slice(at + 2);
  return (said.split(' | ')[0] ?? said).replace(/\s+/g, ' ').trim();
}

function remoteProbes(config: Config, repo: RepoConfig, timeoutMs: number, problems: string[]): Promise<string | null>[] {
  const at = `repos.${repo.name}`;
  const out = [probe(`${at}.url`, vcsFor(repo.vcs), repo.url, repoAuth(config.data_dir, repo.ssh_key), timeoutMs)];
  (repo.mirror ?? []).forEach((m, i) => {
    if (/\{(owner|name)\}/.test(m.url)) return;
    const auth: GitAuth = { knownHosts: knownHostsFile(config.data_dir) };
    const key = m.ssh_key ?? repo.ssh_key;
    if (key) auth.sshKey = key;
    if (m.token_env) {
      const token = process.env[m.token_env];
      if (!token) {
        problems.push(`${at}.mirror[${i}].token_env: environment variable ${m.token_env} is not set`);
        return;
      }
      auth.token = token;
    }
    out.push(probe(`${at}.mirror[${i}].url`, gitVcs, m.url, auth, timeoutMs));
  });
  return out;
}

export async function deepCheck(config: Config, opts: { timeoutMs?: number } = {}): Promise<DeepResult> {
  const notes: string[] = [];
  const problems = [...pathProblems(config)];
  for (const repo of config.repos.values()) {
    if (repo.ssh_key && !existsSync(repo.ssh_key)) problems.push(`repos.${repo.name}.ssh_key: ${repo.ssh_key} does not exist`);
  }
  const probes = [...config.repos.values()].flatMap((r) => remoteProbes(config, r, opts.timeoutMs ?? 20_000, problems));
  problems.push(...(await portProblems(config, notes)));
  for (const p of await Promise.all(probes)) if (p) problems.push(p);
  return { problems, notes };
}
