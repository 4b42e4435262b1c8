import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage, ShutdownError } from '../lib/errors.js';
import { formatMs } from '../lib/exec.js';
import { shortSha } from '../lib/ids.js';
import type { JobContext } from './context.js';
import { GateError, healthTarget, type GoLive } from './go-live-common.js';
import { waitHealthy, watchHealthy, type HealthTarget } from './health.js';
import type { Layout } from './releases.js';
import { commandEnv, step } from './steps.js';
import type { AppExit, Supervisor } from './supervisor.js';
import { switchCurrent } from './switch.js';

/**
 * The gate for a supervised app (`deploy.start`) on one `port`, with no proxy: stop the old
 * app, start the new one from its release dir, wait until healthy (the health URL on its
 * port, else "stays up for min_uptime"), only then switch `current`, then probation, where a
 * failed probe or any exit of the app fails at once.
 *
 * Any failure stops the new app and starts the old release's app again; after the switch it
 * also points `current` back. An exit of the new app while it is gated fails the gate at
 * once (no restart with backoff first): a release that dies while it is watched is bad.
 *
 * Crash cases: if autopull dies before the switch, `current` is the old release and the next
 * start runs the old app; after the switch, `current` is the new (`switching`) release and the
 * next start runs it, while the interrupted job, queued again, runs this gate again for it.
 */
export async function goLiveSupervised(ctx: JobContext, l: Layout, g: GoLive, sup: Supervisor): Promise<void> {
  const deploy = ctx.repo.deploy;
  if (!deploy?.start) throw new Error('no deploy.start');
  const dir = join(l.releases, g.release);
  const health = healthTarget(ctx);
  let switched = false;

  ctx.store.setReleaseState(ctx.repo.name, g.release, 'ready');
  await step(ctx, `stop the app${sup.release ? ` (releases/${sup.release})` : ''}`, () => sup.stop(deploy.stop_timeout));
  try {
    await step(ctx, `start: ${deploy.start} (releases/${g.release}${deploy.port ? `, PORT ${deploy.port}` : ''})`, () =>
      sup.start(dir, commandEnv(ctx, g.sha, dir, g.previousSha, g.ref)),
    ).catch((err: unknown) => {
      throw new GateError(`start failed: ${errorMessage(err)}`, false);
    });
    await step(ctx, health ? `wait healthy: GET ${health.url}` : `wait: the app stays up for ${formatMs(deploy.min_uptime)}`, () =>
      whileUp(sup, ctx.signal, 'before it was healthy', (s) => (health ? waitHealthy(health, s) : delay(deploy.min_uptime, undefined, { signal: s }))),
    ).catch(gateFailure(ctx));
    // `switching` until probation passes: a crash in between makes the next job run the gate again.
    ctx.store.setReleasePrevious(ctx.repo.name, g.release, g.previous === g.release ? null : g.previous);
    ctx.store.setReleaseState(ctx.repo.name, g.release, 'switching');
    if (g.previous && g.previous !== g.release) ctx.store.setReleaseState(ctx.repo.name, g.previous, 'ready');
    await step(ctx, `switch current -> releases/${g.release}`, () => switchCurrent(l, g.release));
    switched = true;
    if (deploy.probation > 0) {
      await step(ctx, `probation ${formatMs(deploy.probation)}`, async () => {
        const probes = await whileUp(sup, ctx.signal, 'in probation', (s) => (health ? watchHealthy(health, deploy.probation, s) : delay(deploy.probation, 0, { signal: s })));
        if (health) ctx.log('info', `${probes} health probes passed`);
      }).catch(gateFailure(ctx));
    }
  } catch (err) {
    // Stopping autopull is no verdict: the server stops the apps, the next start runs current's.
    if (ctx.signal.reason instanceof ShutdownError) throw err;
    await restoreOld(ctx, l, g, sup, switched, health);
    throw err;
  }
  ctx.store.setReleaseState(ctx.repo.name, g.release, 'live');
}

function gateFailure(ctx: JobContext): (err: unknown) => never {
  return (err) => {
    throw err instanceof GateError ? err : new GateError(errorMessage(err), !ctx.signal.aborted);
  };
}

/**
 * Runs `fn` with a signal that aborts when the app exits; an exit fails it with a GateError
 * that marks the commit bad.
 */
async function whileUp<T>(sup: Supervisor, signal: AbortSignal, when: string, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const both = AbortSignal.any([signal, ac.signal]);
  let onExit: ((e: AppExit) => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = (e) => reject(new GateError(`the app exited ${when}: ${e.signal ? `killed by ${e.signal}` : `exit ${e.code}`} after ${formatMs(e.uptimeMs)}`, true));
    sup.once('exit', onExit);
  });
  exited.catch(() => undefined);
  try {
    if (sup.state !== 'running') throw new GateError(`the app is not running (${sup.state}) ${when}`, true);
    return await Promise.race([fn(both), exited]);
  } finally {
    if (onExit) sup.off('exit', onExit);
    ac.abort();
  }
}

/** Stops the new app, points `current` back when it was switched, starts the old app again. */
async function restoreOld(ctx: JobContext, l: Layout, g: GoLive, sup: Supervisor, switched: boolean, health: HealthTarget | null): Promise<void> {
  const started = Date.now();
  const deploy = ctx.repo.deploy;
  if (!deploy) return;
  ctx.store.setReleaseState(ctx.repo.name, g.release, 'failed');
  const back = g.previous !== null && g.previous !== g.release ? g.previous : null;
  ctx.log('step', `revert: stop releases/${g.release}${back ? `, start releases/${back} again` : ''}`);
  if (switched && back) {
    switchCurrent(l, back);
    ctx.store.setReleaseState(ctx.repo.name, back, 'live');
  }
  await sup.stop(deploy.stop_timeout);
  if (!back) {
    ctx.log('error', 'there is no previous release to go back to; the app stays stopped');
    return;
  }
  // The revert runs even when the job was aborted: no app at all is worse than the old one.
  const revertSignal = AbortSignal.timeout(Math.max(60_000, deploy.health?.timeout ?? 0, deploy.min_uptime * 2));
  const dir = join(l.releases, back);
  try {
    sup.start(dir, commandEnv({ ...ctx, signal: revertSignal }, g.previousSha ?? '', dir, g.sha, g.ref));
    await whileUp(sup, revertSignal, 'after the revert', (s) => (health ? waitHealthy(health, s) : delay(deploy.min_uptime, undefined, { signal: s })));
    ctx.log('info', `releases/${back} (${shortSha(g.previousSha ?? '')}) is healthy again, ${formatMs(Date.now() - started)} after the revert began`);
  } catch (err) {
    ctx.log('error', `the previous release is not healthy either: ${errorMessage(err)} (the supervisor keeps restarting it)`);
  }
}
