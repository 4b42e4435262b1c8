import type { MirrorTarget } from '../config/schema.js';
import type { JobParams } from '../store/store.js';
import { fillTarget, hasPlaceholders } from './override.js';
import { redactUrl } from '../lib/redact.js';

/** A target as one job pushes to it: placeholders filled, url as shown (no password). */
export interface ResolvedTarget {
  /**
   * The url as configured (the template for an override), without its password: what
   * retries name in the database (a credential in a url never goes there).
   */
  key: string;
  url: string;
  shown: string;
  options: MirrorTarget;
}

/**
 * The targets one job pushes to: every configured one, except templated targets without an
 * override (they need ?owner=&name=), and only `params.targets` when a retry names some.
 */
export function resolveTargets(mirror: readonly MirrorTarget[] | undefined, params: JobParams | null): { targets: ResolvedTarget[]; skipped: string[] } {
  const targets: ResolvedTarget[] = [];
  const skipped: string[] = [];
  for (const t of mirror ?? []) {
    const key = redactUrl(t.url);
    // Retries queued by an older version named the url as configured.
    if (params?.targets && !params.targets.includes(key) && !params.targets.includes(t.url)) continue;
    let url = t.url;
    if (hasPlaceholders(t.url)) {
      if (!params?.owner || !params.name) {
        skipped.push(`${t.url}: needs ?owner=&name= on the hook URL`);
        continue;
      }
      const filled = fillTarget(t, { owner: params.owner, name: params.name });
      if (!filled.ok) {
        skipped.push(filled.reason);
        continue;
      }
      url = filled.url;
    }
    targets.push({ key, url, shown: redactUrl(url), options: t });
  }
  return { targets, skipped };
}
