import type { Config } from '../config/load.js';
import { PROVIDER_IDS } from '../config/schema.js';

/**
 * Label values of the metrics, each from a closed set: anyone can send a webhook, so a value
 * taken from a request as it came (a sender's header, a repo in the URL, a ref, a step's
 * text) would let a flood of made-up values create a new series each and exhaust the memory
 * of autopull and of Prometheus. Whatever is not in the set becomes one catch-all value.
 */

/** For a value outside its set. Starts with `_`: no repo name or sender id can. */
export const OTHER = '_other';
/** The sender of a delivery autopull did not recognise. */
export const UNKNOWN_SENDER = 'unknown';

/** A recognised sender's id (config/schema.ts PROVIDER_IDS), else `unknown`. */
export function senderLabel(provider: string | null | undefined): string {
  return provider && (PROVIDER_IDS as readonly string[]).includes(provider) ? provider : UNKNOWN_SENDER;
}

/** An HTTP status (100-599), else `_other`. */
export function codeLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}

/** A repo named in the config, else `_other` (a job of a repo since removed from it). */
export function repoLabel(config: Config, repo: string): string {
  return config.repos.has(repo as never) ? repo : OTHER;
}

/** Closed sets for a job's kind and final state. */
const KINDS = ['deploy', 'rollback', 'mirror', 'restart'];
const OUTCOMES = ['succeeded', 'failed', 'skipped', 'interrupted', 'ignored'];

export function kindLabel(kind: string): string {
  return KINDS.includes(kind) ? kind : OTHER;
}

export function outcomeLabel(state: string): string {
  return OUTCOMES.includes(state) ? state : OTHER;
}

/**
 * A step by its kind: the first word of its name (`build: npm ci` is `build`, `switch current
 * -> releases/...` is `switch`). The rest of a name carries refs, shas and commands.
 */
const STEPS = ['resolve', 'fetch', 'materialise', 'link', 'build', 'stop', 'start', 'wait', 'switch', 'route', 'probation', 'restart', 'retire', 'prune', 'find', 'mirror'];

export function stepLabel(name: string): string {
  const first = /^[a-z]+/.exec(name)?.[0] ?? '';
  return STEPS.includes(first) ? first : OTHER;
}
