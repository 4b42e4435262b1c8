import { isIP } from 'node:net';
import type { z } from 'zod';
import { configSchema, KNOWN_KEYS, type RawConfig } from './schema.js';
import { substituteEnv, type EnvUse } from './env.js';

/**
 * Pure validation: takes the parsed YAML value and the environment, returns the typed
 * config or every problem at once, each as `dotted.path: message`.
 */
export type Validated = { ok: true; config: RawConfig; envUses: EnvUse[] } | { ok: false; problems: string[] };

/** Keys in the SPEC that this version does not act on yet: refusing them beats ignoring them. */
const NOT_YET: Record<string, string> = {
  notify: 'notifications are not built yet',
};

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

export function didYouMean(key: string, known: readonly string[] = KNOWN_KEYS): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= (key.length <= 3 ? 1 : 2) ? best : null;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const at = valueAt(input, issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const hint = didYouMean(k);
      return `${formatPath([...issue.path, k])}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`;
    });
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && at === undefined) message = 'is required';
  else if (issue.code === 'invalid_type') message = `must be ${issue.expected}, not ${describeValue(at)}`;
  else if (issue.code === 'invalid_value' && 'values' in issue) message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(at)}`;
  else if (issue.code === 'invalid_key') message = `${JSON.stringify(issue.path.at(-1))} is not a valid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  return [`${formatPath(issue.path)}: ${message}`];
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

export function validCidr(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
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
  if (Array.isArray(raw.trust_proxy)) {
    raw.trust_proxy.forEach((c: unknown, i) => {
      if (typeof c === 'string' && !validCidr(c)) problems.push(`trust_proxy[${i}]: "${c}" is not an IP address or CIDR block`);
    });
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
      if (Array.isArray(repo.allow_ips)) {
        repo.allow_ips.forEach((c, i) => {
          if (typeof c === 'string' && !validCidr(c)) problems.push(`${at}.allow_ips[${i}]: "${c}" is not an IP address or CIDR block`);
        });
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
      for (const [key, why] of Object.entries(NOT_YET)) {
        const [first, second] = key.split('.') as [string, string | undefined];
        const present = second === undefined ? repo[first] !== undefined : deploy !== null && typeof deploy === 'object' && deploy[second] !== undefined;
        if (present) problems.push(`${at}.${key}: not supported yet by this version (${why})`);
      }
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
