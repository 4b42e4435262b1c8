import { isIP } from 'node:net';
import { configSchema, type RawConfig } from './schema.js';
import { substituteEnv, type EnvUse } from './env.js';
import { describeIssue, formatPath } from './describe-issue.js';
import { isPreset, unknownEntry } from './ip-presets.js';

export { formatPath } from './describe-issue.js';

/**
 * Pure validation: takes the parsed YAML value and the environment, returns the typed
 * config or every problem at once, each as `dotted.path: message`.
 */
export type Validated = { ok: true; config: RawConfig; envUses: EnvUse[] } | { ok: false; problems: string[] };

export function validCidr(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** The text entries of a list that may be written as one value alone, each with its path. */
function listEntries(v: unknown, path: string): [string, string][] {
  if (typeof v === 'string') return [[v, path]];
  if (!Array.isArray(v)) return [];
  return v.flatMap((c: unknown, i): [string, string][] => (typeof c === 'string' ? [[c, `${path}[${i}]`]] : []));
}

export function validateConfig(input: unknown, env: NodeJS.ProcessEnv): Validated {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: ['(top level): must be a mapping with at least a repos: key'] };
  }
  const { value, problems: envProblems, uses } = substituteEnv(input, env);
  const problems = envProblems.map((p) => `${formatPath(p.path)}: ${p.message}`);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const envPaths = new Set(envProblems.map((p) => formatPath(p.path)));
    for (const issue of parsed.error.issues) {
      if (!envPaths.has(formatPath(issue.path))) problems.push(...describeIssue(issue, value));
    }
  }
  const raw = value as Record<string, unknown>;
  for (const [c, where] of listEntries(raw.trust_proxy, 'trust_proxy')) {
    if (!validCidr(c)) problems.push(`${where}: "${c}" is not an IP address or CIDR block`);
  }
  const repos = (raw.repos ?? {}) as Record<string, Record<string, unknown> | null>;
  if (repos !== null && typeof repos === 'object') {
    for (const [name, repo] of Object.entries(repos)) {
      if (repo === null || typeof repo !== 'object') continue;
      const at = `repos.${name}`;
      if (repo.secret === undefined && repo.secret_file === undefined && repo.insecure !== true) {
        problems.push(`${at}.secret: required: the sender's HMAC key or token (or secret_file; or insecure: true to accept unsigned deliveries)`);
      }
      if (repo.secret !== undefined && repo.secret_file !== undefined) {
        problems.push(`${at}.secret_file: give secret or secret_file, not both`);
      }
      for (const [c, where] of listEntries(repo.allow_ips, `${at}.allow_ips`)) {
        if (!validCidr(c) && !isPreset(c)) problems.push(`${where}: ${unknownEntry(c)}`);
      }
      if (Array.isArray(repo.mirror)) {
        repo.mirror.forEach((m: unknown, i) => {
          const t = m as Record<string, unknown> | null;
          if (t && typeof t.url === 'string' && /\{(owner|name)\}/.test(t.url) && !Array.isArray(t.allow_targets)) {
            problems.push(`${at}.mirror[${i}].allow_targets: required when url holds {owner} or {name} (globs the filled url must match)`);
          }
        });
      }
      const deploy = repo.deploy as Record<string, unknown> | undefined;
      if (deploy !== null && typeof deploy === 'object' && deploy.start !== undefined && deploy.restart !== undefined) {
        problems.push(`${at}.deploy.restart: give start (autopull supervises the app) or restart (an external command), not both`);
      }
      if (deploy !== null && typeof deploy === 'object' && deploy.proxy !== undefined) {
        if (deploy.start === undefined) problems.push(`${at}.deploy.proxy: needs deploy.start (autopull runs the app behind its proxy; with restart, your own server serves it)`);
        if (deploy.port !== undefined) problems.push(`${at}.deploy.port: remove it: behind the proxy each release gets a free loopback PORT of its own`);
      }
      const health = deploy !== null && typeof deploy === 'object' ? (deploy.health as Record<string, unknown> | undefined) : undefined;
      if (health && typeof health.url === 'string' && !/^https?:\/\//i.test(health.url) && deploy?.port === undefined && deploy?.proxy === undefined) {
        problems.push(`${at}.deploy.health.url: "${health.url}" is relative: give deploy.port (or deploy.proxy), or an absolute http(s) URL`);
      }
      if (repo.deploy === undefined && repo.mirror === undefined && parsed.success) {
        problems.push(`${at}: has neither deploy: nor mirror:, so a push would do nothing`);
      }
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: dedupe(problems) };
  return { ok: true, config: parsed.data, envUses: uses };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
