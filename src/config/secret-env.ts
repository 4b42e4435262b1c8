import { urlSecrets } from '../lib/redact.js';
import type { EnvUse } from './env.js';

/**
 * Which environment variables feed a config's secrets, so that autopull passes them to no
 * command it runs (lib/child-env.ts). The rule, decided on where a `${VAR}` is used:
 *  - in a key named like a secret (secret, auth_token, anything with token, password,
 *    passwd, credential or api_key in its name), except `*_file` keys, which hold paths;
 *  - anywhere in a `url` that carries credentials (`https://user:${PASS}@host/...`, or a
 *    whole `${URL}` whose value has them), and anywhere in a `notify:` url;
 *  - and the variable each mirror's `token_env` names (a name, not a `${VAR}`).
 * A variable used elsewhere (`data_dir: ${HOME}/x`, `url: https://h/${ORG}/x.git`) stays
 * visible: builds need HOME, PATH and the like.
 */
const SECRET_KEY = /secret|token|passw|credential|api_?key/i;

/** Whether a config key holds a secret (a `*_file` key holds a path, not a secret). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !key.endsWith('_file');
}

export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** `config` is the substituted value (after `${VAR}`s were replaced), before defaults apply. */
export function secretEnvNames(uses: readonly EnvUse[], config: unknown): string[] {
  const names = new Set<string>();
  for (const use of uses) {
    const key = [...use.path].reverse().find((p): p is string => typeof p === 'string') ?? '';
    if (isSecretKey(key)) names.add(use.name);
    const value = valueAt(config, use.path);
    if (key === 'url' && typeof value === 'string' && urlSecrets(value).length > 0) names.add(use.name);
    // A notification url may be a credential as a whole (Slack's incoming webhooks).
    if (key === 'url' && use.path.includes('notify')) names.add(use.name);
  }
  const repos = valueAt(config, ['repos']);
  if (repos !== null && typeof repos === 'object') {
    for (const repo of Object.values(repos as Record<string, unknown>)) {
      const mirror = valueAt(repo, ['mirror']);
      if (!Array.isArray(mirror)) continue;
      for (const m of mirror) {
        const name = valueAt(m, ['token_env']);
        if (typeof name === 'string' && name) names.add(name);
      }
    }
  }
  return [...names].sort();
}
