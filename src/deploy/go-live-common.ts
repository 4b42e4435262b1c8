import type { ReleaseId } from '../lib/ids.js';
import type { JobContext } from './context.js';
import { healthUrl, type HealthTarget } from './health.js';

/** What both gates (restart command, supervised app) share: what goes live, how it fails, where health is. */
export interface GoLive {
  release: ReleaseId;
  sha: string;
  ref: string;
  /** The release live before (null on a first deploy) and its commit. */
  previous: ReleaseId | null;
  previousSha: string | null;
}

export class GateError extends Error {
  override name = 'GateError';
  /** Health failed (never healthy, or failed in probation): the commit is marked bad. */
  readonly health: boolean;
  constructor(message: string, health: boolean) {
    super(message);
    this.health = health;
  }
}

export function healthTarget(ctx: JobContext): HealthTarget | null {
  const d = ctx.repo.deploy;
  if (!d?.health) return null;
  const url = healthUrl(d.health.url, d.port);
  return url ? { url, timeoutMs: d.health.timeout, intervalMs: d.health.interval } : null;
}

