import { substituteEnv } from './env.js';
import { isSecretKey, valueAt } from './secret-env.js';

/**
 * Commands that only read (`status`, `jobs`, `releases`, `logs`) load the config without the
 * secrets' environment variables: an operator may look at history from a shell that does not
 * hold the webhook secrets. Each unset `${VAR}` that feeds a secret (a secret-like key, or the
 * credentials part of a url) gets this placeholder so that validation passes; the loader then
 * drops the values (a repo's `secret` becomes null, `auth_token` unset, so the CLI uses
 * `data_dir/local.token`). Every other unset variable is still an error.
 */
export const UNSET_SECRET = 'autopull-unset-secret-';

export function envWithoutSecrets(input: unknown, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { problems, uses } = substituteEnv(input, env);
  const unsetAt = new Set(problems.map((p) => JSON.stringify(p.path)));
  const out: NodeJS.ProcessEnv = { ...env };
  for (const use of uses) {
    if (!unsetAt.has(JSON.stringify(use.path)) || (env[use.name] ?? '') !== '') continue;
    const key = [...use.path].reverse().find((p): p is string => typeof p === 'string') ?? '';
    const raw = valueAt(input, use.path);
    if (isSecretKey(key) || (key === 'url' && typeof raw === 'string' && inUserinfo(raw, use.name))) out[use.name] = `${UNSET_SECRET}${use.name}`;
    // A notify url is itself a credential (a Slack hook): read-only commands never send, any valid url will do.
    else if (key === 'url' && use.path.includes('notify') && raw === `\${${use.name}}`) out[use.name] = 'https://unset.invalid/';
  }
  return out;
}

/** Whether `${name}` stands in the user:password part of `scheme://user:pass@host/...`. */
function inUserinfo(url: string, name: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)@/i.exec(url);
  return m !== null && (m[1] ?? '').includes(`\${${name}`);
}

export function isUnsetSecret(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.includes(UNSET_SECRET);
}
