import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../lib/errors.js';
import type { RepoName } from '../lib/ids.js';
import type { ProviderId, RawConfig, RawDeploy, RawRepo } from './schema.js';
import { validateConfig } from './validate.js';
import { yamlProblem } from './yaml-error.js';
import { secretEnvNames } from './secret-env.js';
import { hideFromChildren } from '../lib/child-env.js';
import { urlSecrets } from '../lib/redact.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';
import { envWithoutSecrets, isUnsetSecret } from './without-secrets.js';
import { expandAllowIps } from './ip-presets.js';

export interface LoadOptions {
  /**
   * For commands that only read: a secret whose `${VAR}` is unset is left out (a repo's
   * secret null, no auth_token) instead of an error (config/without-secrets.ts).
   */
  withoutSecrets?: boolean;
}

/** A repo as the rest of autopull sees it: validated, secret read, paths absolute. */
export interface RepoConfig extends Omit<RawRepo, 'deploy' | 'secret' | 'secret_file'> {
  name: RepoName;
  /** null only when `insecure: true` and no secret was given. */
  secret: string | null;
  providers?: ProviderId[];
  deploy?: RawDeploy;
}

export interface Config extends Omit<RawConfig, 'repos' | 'listen'> {
  file: string;
  listen: { host: string; port: number };
  repos: Map<RepoName, RepoConfig>;
  /** Environment variables that feed this config's secrets (config/secret-env.ts): no command sees them. */
  secretEnv: readonly string[];
  /** `tls:`'s certificate and key, read (and checked to be a pair) when the config was loaded. */
  tlsFiles?: TlsFiles;
}

/** The config file a command uses: `-c FILE`, else $AUTOPULL_CONFIG, else ./autopull.yml. */
export function configPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env.AUTOPULL_CONFIG ?? 'autopull.yml');
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address ${listen}`);
  return { host: (m[1] ?? m[2]) as string, port: Number(m[3]) };
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  if (!existsSync(file)) {
    throw new ConfigError(file, [`file not found (create one with: autopull init ${file})`]);
  }
  const text = readFileSync(file, 'utf8');
  return parseConfigText(text, file, env, opts);
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => yamlProblem(e, text)));
  }
  const input: unknown = doc.toJS();
  const validated = validateConfig(input, opts.withoutSecrets ? envWithoutSecrets(input, env) : env);
  if (!validated.ok) throw new ConfigError(file, validated.problems);
  const raw = validated.config;
  const base = dirname(file);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const problems: string[] = [];

  const repos = new Map<RepoName, RepoConfig>();
  for (const [name, r] of Object.entries(raw.repos)) {
    let secret = r.secret === undefined || isUnsetSecret(r.secret) ? null : r.secret;
    if (r.secret_file !== undefined) {
      const path = abs(r.secret_file);
      try {
        secret = readFileSync(path, 'utf8').trim();
        if (!secret) problems.push(`repos.${name}.secret_file: ${path} is empty`);
      } catch (err) {
        problems.push(`repos.${name}.secret_file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    const { secret: _s, secret_file: _f, ...rest } = r;
    const repo: RepoConfig = {
      ...rest,
      name: name as RepoName,
      secret,
      url: isLocalPath(r.url) ? abs(r.url) : r.url,
    };
    if (r.deploy) repo.deploy = { ...r.deploy, path: abs(r.deploy.path) };
    if (r.ssh_key) repo.ssh_key = abs(r.ssh_key);
    if (r.allow_ips) repo.allow_ips = expandAllowIps(r.allow_ips);
    if (r.mirror) {
      repo.mirror = r.mirror.map((m) => ({ ...m, url: isLocalPath(m.url) ? abs(m.url) : m.url, ...(m.ssh_key ? { ssh_key: abs(m.ssh_key) } : {}) }));
    }
    repos.set(name as RepoName, repo);
  }
  const tls = raw.tls ? readTlsFiles({ cert: abs(raw.tls.cert), key: abs(raw.tls.key) }) : null;
  // Commands that only read never speak HTTPS: an unreadable key is not theirs to refuse.
  if (tls && 'problems' in tls && !opts.withoutSecrets) problems.push(...tls.problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const config: Config = {
    ...raw,
    file,
    listen: parseListen(raw.listen),
    data_dir: abs(raw.data_dir),
    repos,
    secretEnv: secretEnvNames(validated.envUses, raw),
  };
  if (isUnsetSecret(config.auth_token)) delete config.auth_token;
  if (raw.tls) config.tls = { cert: abs(raw.tls.cert), key: abs(raw.tls.key) };
  if (tls && 'files' in tls) config.tlsFiles = tls.files;
  // From here on, no process this one starts sees these (lib/child-env.ts).
  hideFromChildren(config.secretEnv, secretValues(config));
  return config;
}

/** The secret values themselves: a variable holding one under another name is hidden too. */
function secretValues(config: Config): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  if (config.auth_token) out.push(config.auth_token);
  for (const n of config.notify ?? []) out.push(n.url, n.secret);
  for (const r of config.repos.values()) {
    if (r.secret) out.push(r.secret);
    for (const n of r.notify ?? []) out.push(n.url, n.secret);
    out.push(...urlSecrets(r.url), ...(r.mirror ?? []).flatMap((m) => urlSecrets(m.url)));
  }
  return out;
}

/** A url that is a plain path (not scheme://, not scp-like user@host:path). */
export function isLocalPath(url: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return false;
  if (/^[^/]+:/.test(url) && !url.startsWith('./') && !url.startsWith('../')) return false;
  return true;
}
