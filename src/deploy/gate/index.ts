import type { JobContext } from '../context.js';
import { requireApps } from '../apps.js';
import type { Layout } from '../releases.js';
import { dropFailed } from '../release-build.js';
import { restartGate } from './restart.js';
import { supervisedGate } from './supervised.js';
import { proxiedGate } from './proxied.js';
import { passGate } from './run.js';
import type { Gate, GoLive } from './types.js';

export type { Gate, GoLive } from './types.js';
export { passGate } from './run.js';

/** The gate for this repo's way of going live: behind the proxy, a supervised app on one port, else the restart command (or none). */
export function gateFor(ctx: JobContext, l: Layout, g: GoLive): Gate {
  if (ctx.repo.deploy?.start && ctx.repo.deploy.proxy) {
    requireApps(ctx.repo, ctx.apps);
    return proxiedGate(ctx, l, g, ctx.apps!.proxied);
  }
  const sup = requireApps(ctx.repo, ctx.apps);
  return sup ? supervisedGate(ctx, l, g, sup) : restartGate(ctx, l, g);
}

/** Takes `g` live through the repo's gate (deploys, rollbacks and the gate finished after a restart). */
export function goLive(ctx: JobContext, l: Layout, g: GoLive): Promise<void> {
  return passGate(ctx, gateFor(ctx, l, g), g);
}

/**
 * `goLive` for a release a deploy made: when it fails its gate and there is a previous release
 * serving, its folder goes at once (the ledger says `failed` only when the gate gave a verdict).
 */
export async function goLiveOrDrop(ctx: JobContext, l: Layout, g: GoLive): Promise<void> {
  try {
    await goLive(ctx, l, g);
  } catch (err) {
    if (g.previous !== null && ctx.releases.get(g.release)?.state === 'failed') dropFailed(ctx, l, g.release);
    throw err;
  }
}
