import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, ShutdownError } from '../lib/errors.js';
import { formatMs } from '../lib/exec.js';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import type { JobContext } from './context.js';
import { waitHealthy, watchHealthy } from './health.js';
import { GateError, healthTarget, type GoLive } from './go-live-common.js';

export { GateError, healthTarget, type GoLive } from './go-live-common.js';
import type { Layout } from './releases.js';
import { requireApps } from './apps.js';
import { goLiveSupervised } from './go-live-start.js';
import { switchCurrent } from './switch.js';
import { commandEnv, runCommand, step } from './steps.js';

/**
 * The gate every switch goes through (deploys and rollbacks): switch `current`, run
 * `restart`, wait until healthy, then watch it through probation. Any failure switches back
 * to the release that was live before, restarts it and waits for it to be healthy again.
 *
 * A supervised app (`deploy.start`) goes through `goLiveSupervised` instead, which starts
 * and checks the new app before the switch.
 *
 * Crash cases: if autopull dies after the switch and before the end of probation, `current`
 * points at the new release; the job is found `running` at the next start, marked
 * interrupted and queued again, and that job finds the commit live and ends `skipped`.
 */
export async function goLive(ctx: JobContext, l: Layout, g: GoLive): Promise<void> {
  const deploy = ctx.repo.deploy;
  if (!deploy) throw new Error('no deploy section');
  const sup = requireApps(ctx.repo, ctx.apps);
  if (sup) return goLiveSupervised(ctx, l, g, sup);
  const dir = join(l.releases, g.release);
  const env = commandEnv(ctx, g.sha, dir, g.previousSha, g.ref);
  const health = healthTarget(ctx);

  // `switching` before the link moves: if we die inside the gate, the next job finds current on
  // a `switching` release and runs the gate again instead of calling it live.
  ctx.store.setReleasePrevious(ctx.repo.name, g.release, g.previous === g.release ? null : g.previous);
  ctx.store.setReleaseState(ctx.repo.name, g.release, 'switching');
  if (g.previous && g.previous !== g.release) ctx.store.setReleaseState(ctx.repo.name, g.previous, 'ready');
  await step(ctx, `switch current -> releases/${g.release}`, () => switchCurrent(l, g.release));

  try {
    if (deploy.restart) {
      const restart = deploy.restart;
      await step(ctx, `restart: ${restart}`, () => runCommand(ctx, restart, dir, env)).catch((err: unknown) => {
        throw new GateError(`restart failed: ${errorMessage(err)}`, false);
      });
    }
    if (health) {
      await step(ctx, `wait healthy: GET ${health.url}`, () => waitHealthy(health, ctx.signal)).catch((err: unknown) => {
        throw new GateError(errorMessage(err), !ctx.signal.aborted);
      });
      if (deploy.probation > 0) {
        await step(ctx, `probation ${formatMs(deploy.probation)}`, async () => {
          const probes = await watchHealthy(health, deploy.probation, ctx.signal);
          ctx.log('info', `${probes} health probes passed`);
        }).catch((err: unknown) => {
          throw new GateError(errorMessage(err), !ctx.signal.aborted);
        });
      }
    }
  } catch (err) {
    // Stopping autopull is no verdict on the release: it stays `switching`, and the next
    // start runs the gate again for it.
    if (ctx.signal.reason instanceof ShutdownError) throw err;
    await switchBack(ctx, l, g);
    throw err;
  }
  ctx.store.setReleaseState(ctx.repo.name, g.release, 'live');
}

/** Points `current` back at the previous release, restarts it and waits for it to be healthy. */
async function switchBack(ctx: JobContext, l: Layout, g: GoLive): Promise<void> {
  const started = Date.now();
  ctx.store.setReleaseState(ctx.repo.name, g.release, 'failed');
  if (g.previous === null || g.previous === g.release) {
    ctx.log('error', 'there is no previous release to go back to; current stays on the new release');
    return;
  }
  ctx.log('step', `revert: switch current back to releases/${g.previous}`);
  switchCurrent(l, g.previous);
  ctx.store.setReleaseState(ctx.repo.name, g.previous, 'live');
  const deploy = ctx.repo.deploy;
  const dir = join(l.releases, g.previous);
  // The revert runs even when the job was aborted: the old code without its restart is worse.
  const revertSignal = AbortSignal.timeout(Math.max(60_000, deploy?.health?.timeout ?? 0));
  const revertCtx: JobContext = { ...ctx, signal: revertSignal };
  if (deploy?.restart) {
    try {
      await runCommand(revertCtx, deploy.restart, dir, commandEnv(revertCtx, g.previousSha ?? '', dir, g.sha, g.ref));
    } catch (err) {
      ctx.log('error', `restart of the previous release failed too: ${errorMessage(err)}`);
    }
  }
  const health = healthTarget(ctx);
  if (health) {
    try {
      await waitHealthy(health, revertSignal);
      ctx.log('info', `releases/${g.previous} (${shortSha(g.previousSha ?? '')}) is healthy again, ${formatMs(Date.now() - started)} after the revert began`);
    } catch (err) {
      ctx.log('error', `the previous release is not healthy either: ${errorMessage(err)}`);
    }
  }
}

/** Removes a release that failed after it went live (current no longer points at it). */
export function dropFailed(ctx: JobContext, l: Layout, id: ReleaseId): void {
  rmSync(join(l.releases, id), { recursive: true, force: true });
  ctx.store.deleteRelease(ctx.repo.name, id);
}
