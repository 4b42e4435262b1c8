import { join } from 'node:path';
import { errorMessage, JobFailure } from '../../lib/errors.js';
import { formatMs } from '../../lib/exec.js';
import { shortSha } from '../../lib/ids.js';
import type { JobContext } from '../context.js';
import { healthTarget, waitHealthy, watchHealthy } from '../health.js';
import type { Layout } from '../releases.js';
import { commandEnv, runCommand, step } from '../steps.js';
import { switchCurrent, switchCurrentSyncLater } from '../switch.js';
import type { Gate, GoLive } from './types.js';

/**
 * The gate for an app restarted by the user's own command (`deploy.restart`), or for static
 * files served from `current`: nothing can be checked before the switch, so `switch` moves
 * `current` and runs the restart, and `watch` waits healthy, then runs probation.
 */
export function restartGate(ctx: JobContext, l: Layout, g: GoLive): Gate {
  const deploy = ctx.repo.deploy;
  const health = healthTarget(ctx);
  const restart = async (release: string, sha: string, previousSha: string | null, c: JobContext) => {
    if (!deploy?.restart) return;
    const dir = join(l.releases, release);
    await runCommand(c, deploy.restart, dir, commandEnv(c, sha, dir, previousSha, g.ref));
  };
  const none = async () => {};
  return {
    prepare: none,
    verify: none,
    dispose: none,
    async switch() {
      // The restart does not wait for the fsync of the switch (a few ms, more on a busy disk):
      // the link is renamed before it starts, and on disk before the release can go live.
      let onDisk = Promise.resolve();
      await step(ctx, `switch current -> releases/${g.release}`, () => {
        onDisk = switchCurrentSyncLater(l, g.release);
      });
      try {
        if (deploy?.restart) {
          await step(ctx, `restart: ${deploy.restart}`, () => (g.restart ? g.restart.run() : restart(g.release, g.sha, g.previousSha, ctx))).catch((err: unknown) => {
            throw new JobFailure('restart_failed', `restart failed: ${errorMessage(err)}`);
          });
        }
      } finally {
        await onDisk;
      }
    },
    async watch() {
      if (!health) return;
      await step(ctx, `wait healthy: GET ${health.url}`, () => waitHealthy(health, ctx.signal)).catch(fail('unhealthy'));
      if (deploy && deploy.probation > 0) {
        await step(ctx, `probation ${formatMs(deploy.probation)}`, async () => {
          const probes = await watchHealthy(health, deploy.probation, ctx.signal);
          ctx.log('info', `${probes} health probes passed`);
        }).catch(fail('probation_failed'));
      }
    },
    async revert() {
      const started = Date.now();
      if (g.previous === null || g.previous === g.release) {
        ctx.log('error', 'there is no previous release to go back to; current stays on the new release');
        return;
      }
      ctx.log('step', `revert: switch current back to releases/${g.previous}`);
      switchCurrent(l, g.previous);
      // The revert runs even when the job was aborted: the old code without its restart is worse.
      const revertCtx: JobContext = { ...ctx, signal: AbortSignal.timeout(Math.max(60_000, deploy?.health?.timeout ?? 0)) };
      try {
        await restart(g.previous, g.previousSha ?? '', g.sha, revertCtx);
      } catch (err) {
        ctx.log('error', `restart of the previous release failed too: ${errorMessage(err)}`);
      }
      if (!health) return;
      try {
        await waitHealthy(health, revertCtx.signal);
        ctx.log('info', `releases/${g.previous} (${shortSha(g.previousSha ?? '')}) is healthy again, ${formatMs(Date.now() - started)} after the revert began`);
      } catch (err) {
        ctx.log('error', `the previous release is not healthy either: ${errorMessage(err)}`);
      }
    },
  };
}

/** Wraps whatever a phase threw in a JobFailure with this code (a JobFailure keeps its own). */
export function fail(code: 'unhealthy' | 'probation_failed' | 'start_failed'): (err: unknown) => never {
  return (err) => {
    throw err instanceof JobFailure ? err : new JobFailure(code, errorMessage(err), { cause: err });
  };
}
