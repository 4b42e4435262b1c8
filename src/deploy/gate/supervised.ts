import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage, JobFailure } from '../../lib/errors.js';
import { formatMs } from '../../lib/exec.js';
import { portHolder, portListeners, portStaysTaken, portTaken } from '../../lib/port.js';
import { liveGroupMembers } from '../../lib/process-group.js';
import { shortSha } from '../../lib/ids.js';
import type { JobContext } from '../context.js';
import { healthTarget, waitHealthy, watchHealthy } from '../health.js';
import type { Layout } from '../releases.js';
import { commandEnv, step } from '../steps.js';
import type { AppExit, Supervisor } from '../supervisor.js';
import { switchCurrent } from '../switch.js';
import { fail } from './restart.js';
import type { Gate, GoLive } from './types.js';

/**
 * The gate for a supervised app (`deploy.start`) on one `port`, with no proxy: `prepare` stops
 * the old app and starts the new one from its release, `verify` waits until it is healthy
 * (its health URL, else "stays up for min_uptime"), `switch` moves `current`, `watch` runs
 * probation, where a failed probe or any exit of the app fails at once. An exit while the
 * app is gated fails the gate (no restart with backoff first): a release that dies while it
 * is watched is bad. `revert` and `dispose` both stop the new app and start the old one;
 * `revert` also points `current` back (passGate has already done the ledger).
 *
 * The port must be free once the old app is stopped: a process autopull did not start that
 * listens on it would answer the health check in the new app's place. The gate then fails
 * with `port_in_use` before the new app starts; it is no verdict on the commit (not marked
 * bad), and the old release keeps its state. The same code is given when the new app exits
 * before it is healthy and the port is taken, or when, once it is healthy, a process outside
 * its group that /proc shows us listens on the port (the foreign process came in between and
 * may have answered the health check).
 *
 * Crash cases: if autopull dies before the switch, `current` is the old release and the next
 * start runs the old app; after it, `current` is the new (`switching`) release, the next
 * start runs it, and the interrupted job, queued again, runs this gate again for it.
 */
export function supervisedGate(ctx: JobContext, l: Layout, g: GoLive, sup: Supervisor): Gate {
  const deploy = ctx.repo.deploy;
  if (!deploy?.start) throw new Error('no deploy.start');
  const start = deploy.start;
  const health = healthTarget(ctx);
  const settle = async (s: AbortSignal) => {
    await (health ? waitHealthy(health, s) : delay(deploy.min_uptime, undefined, { signal: s }));
    if (deploy.port !== undefined) refuseForeignListener(deploy.port, sup);
  };

  async function restoreOld(switchBack: boolean): Promise<void> {
    const started = Date.now();
    const back = g.previous !== null && g.previous !== g.release ? g.previous : null;
    ctx.log('step', `revert: stop releases/${g.release}${back ? `, start releases/${back} again` : ''}`);
    if (switchBack && back) switchCurrent(l, back);
    await sup.stop(deploy!.stop_timeout);
    if (!back) {
      ctx.log('error', 'there is no previous release to go back to; the app stays stopped');
      return;
    }
    // The revert runs even when the job was aborted: no app at all is worse than the old one.
    const signal = AbortSignal.timeout(Math.max(60_000, deploy!.health?.timeout ?? 0, deploy!.min_uptime * 2));
    const dir = join(l.releases, back);
    try {
      if (deploy!.port !== undefined && (await portStaysTaken(deploy!.port, PORT_RELEASE_MS))) throw portInUse(deploy!.port, `the app of releases/${back} is not started again`);
      sup.start(dir, commandEnv({ ...ctx, signal }, g.previousSha ?? '', dir, g.sha, g.ref));
      await whileUp(sup, signal, 'after the revert', settle);
      ctx.log('info', `releases/${back} (${shortSha(g.previousSha ?? '')}) is healthy again, ${formatMs(Date.now() - started)} after the revert began`);
    } catch (err) {
      const why = err instanceof JobFailure && err.code === 'port_in_use' ? errorMessage(err) : `the previous release is not healthy either: ${errorMessage(err)} (the supervisor keeps restarting it)`;
      ctx.log('error', why);
    }
  }

  return {
    async prepare() {
      const dir = join(l.releases, g.release);
      await step(ctx, `stop the app${sup.release ? ` (releases/${sup.release})` : ''}`, () => sup.stop(deploy.stop_timeout));
      await step(ctx, `start: ${start} (releases/${g.release}${deploy.port ? `, PORT ${deploy.port}` : ''})`, async () => {
        if (deploy.port !== undefined && (await portStaysTaken(deploy.port, PORT_RELEASE_MS))) throw portInUse(deploy.port, 'the new app was not started (its health check would reach that process)');
        sup.start(dir, commandEnv(ctx, g.sha, dir, g.previousSha, g.ref));
      }).catch((err: unknown) => {
        throw err instanceof JobFailure ? err : new JobFailure('start_failed', `start failed: ${errorMessage(err)}`);
      });
    },
    async verify() {
      await step(ctx, health ? `wait healthy: GET ${health.url}` : `wait: the app stays up for ${formatMs(deploy.min_uptime)}`, () =>
        whileUp(sup, ctx.signal, 'before it was healthy', settle),
      ).catch(async (err: unknown) => {
        // Our app is gone (its group was killed when it exited): a listener now is someone else's.
        if (deploy.port !== undefined && sup.state !== 'running' && !ctx.signal.aborted && (await portTaken(deploy.port))) {
          throw portInUse(deploy.port, `the new app could not have it (${errorMessage(err)})`);
        }
        return fail('unhealthy')(err);
      });
    },
    async switch() {
      await step(ctx, `switch current -> releases/${g.release}`, () => switchCurrent(l, g.release));
    },
    async watch() {
      if (deploy.probation <= 0) return;
      await step(ctx, `probation ${formatMs(deploy.probation)}`, async () => {
        const probes = await whileUp(sup, ctx.signal, 'in probation', (s) => (health ? watchHealthy(health, deploy.probation, s) : delay(deploy.probation, 0, { signal: s })));
        if (health) ctx.log('info', `${probes} health probes passed`);
      }).catch(fail('probation_failed'));
    },
    revert: () => restoreOld(true),
    dispose: () => restoreOld(false),
  };
}

/** How long a port may stay taken after the old app stopped (its socket closing) before it counts as in use. */
const PORT_RELEASE_MS = 2000;

function portInUse(port: number, what: string, holder = portHolder(port)): JobFailure {
  return new JobFailure(
    'port_in_use',
    `port ${port} (deploy.port) is in use by ${holder ?? 'a process autopull did not start'}: ${what}. Stop it or change deploy.port`,
  );
}

/**
 * After the app looked healthy: a listener on its port held by a process outside its group may
 * have answered in its place. Only our own user's processes can be seen; one we cannot see
 * (another user's, a container runtime's proxy) is given the benefit of the doubt.
 */
function refuseForeignListener(port: number, sup: Supervisor): void {
  const group = sup.pid === null ? [] : (liveGroupMembers(sup.pid) ?? []);
  const foreign = portListeners(port).find((l) => !group.includes(l.pid));
  if (foreign) throw portInUse(port, 'the health check may have been answered by that process, not by the new app', `pid ${foreign.pid} (${foreign.name})`);
}

/**
 * Runs `fn` with a signal that aborts when the app exits; an exit fails it with an
 * `unhealthy` JobFailure (the caller's `fail` keeps that code or the phase's own).
 */
async function whileUp<T>(sup: Supervisor, signal: AbortSignal, when: string, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const both = AbortSignal.any([signal, ac.signal]);
  let onExit: ((e: AppExit) => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = (e) => reject(new Error(`the app exited ${when}: ${e.signal ? `killed by ${e.signal}` : `exit ${e.code}`} after ${formatMs(e.uptimeMs)}`));
    sup.once('exit', onExit);
  });
  exited.catch(() => undefined);
  try {
    if (sup.state !== 'running') throw new Error(`the app is not running (${sup.state}) ${when}`);
    return await Promise.race([fn(both), exited]);
  } finally {
    if (onExit) sup.off('exit', onExit);
    ac.abort();
  }
}
