import { errorMessage, JobFailure, ShutdownError } from '../lib/errors.js';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import { requireApps } from './apps.js';
import type { JobContext, JobResult } from './context.js';
import { gateFor, type Gate, type GoLive } from './gate/index.js';
import type { ProxiedApps } from './proxied-apps.js';
import { layout, readCurrent } from './releases.js';
import { resumeInterruptedGate } from './resume.js';
import type { Supervisor } from './supervisor.js';

/**
 * `autopull restart REPO`: the live release's app started again through the repo's gate.
 * Behind the proxy that is a new instance of the same release beside the running one,
 * health-checked on its own port, routed, watched through probation, and the old instance
 * drained and retired: no request fails. On one `port`, the app is stopped, started again
 * and must pass its health check and probation.
 *
 * A restart is no verdict on the release: it stays `live` and its commit is never marked bad,
 * whatever happens (the release passed its gate when it went live). When the new process
 * fails, behind the proxy the old instance serves on (before the switch nothing moved; after
 * it, traffic goes back to the old instance while it runs); on one port the app stays under
 * its supervisor, which restarts it with backoff. Either way the job fails with the reason.
 */
export async function runRestart(ctx: JobContext): Promise<JobResult> {
  const deploy = ctx.repo.deploy;
  if (!deploy?.start) throw new JobFailure('nothing_to_restart', `repo ${ctx.repo.name} has no supervised app (deploy.start) to restart`);
  const sup = requireApps(ctx.repo, ctx.apps);
  const l = layout(deploy.path);
  // Killed inside a deploy's gate: finishing that gate starts the app of `current` anew.
  const resumed = await resumeInterruptedGate(ctx, l, 'restart');
  if (resumed) return resumed;
  const current = readCurrent(l);
  if (current === null) throw new JobFailure('nothing_to_restart', `repo ${ctx.repo.name} has no live release yet: nothing to restart (deploy it first: autopull deploy ${ctx.repo.name})`);
  const sha = ctx.releases.get(current)?.sha ?? '';
  ctx.setTarget({ release: current, ...(sha ? { target_sha: sha } : {}) });
  ctx.log('info', `restarting the app of releases/${current}${sha ? ` (${shortSha(sha)})` : ''} through its gate`);
  const g: GoLive = { release: current as ReleaseId, sha, ref: 'restart', previous: current as ReleaseId, previousSha: sha };
  const gate = gateFor(ctx, l, g);
  const undo = sup ? keepSupervised(ctx, sup) : backToOld(ctx, ctx.apps!.proxied, gate, await ctx.apps!.proxied.live(ctx.repo.name));
  await passRestart(ctx, gate, undo);
  return { state: 'succeeded', reason: `the app of release ${current}${sha ? ` (${shortSha(sha)})` : ''} was restarted and is healthy`, release: current };
}

interface Undo {
  /** The new process failed before it got traffic. */
  beforeSwitch(): Promise<void>;
  /** It failed after it got traffic (in probation). */
  afterSwitch(): Promise<void>;
}

/** The gate's phases in order, with a restart's own undo and no change to the release ledger. */
async function passRestart(ctx: JobContext, gate: Gate, undo: Undo): Promise<void> {
  let switched = false;
  try {
    await gate.prepare();
    await gate.verify();
    switched = true;
    await gate.switch();
    await gate.watch();
  } catch (err) {
    // Stopping autopull is no verdict: the job runs again at the next start.
    if (ctx.signal.reason instanceof ShutdownError) throw err;
    await (switched ? undo.afterSwitch() : undo.beforeSwitch());
    throw err instanceof JobFailure ? err : new JobFailure('internal', errorMessage(err), { cause: err });
  }
  await gate.finish?.().catch((err: unknown) => ctx.log('error', `after the restart: ${errorMessage(err)}`));
}

/** Port mode: there is no other process to go back to; the supervisor keeps restarting this one. */
function keepSupervised(ctx: JobContext, sup: Supervisor): Undo {
  const say = async () => {
    const how = sup.state === 'running' ? `it runs (pid ${sup.pid})` : sup.state === 'backoff' ? 'it is started again with backoff' : `it is ${sup.state}`;
    ctx.log('error', `the app stays under its supervisor: ${how}`);
  };
  return { beforeSwitch: say, afterSwitch: say };
}

/**
 * Proxy: before the switch, the new instance goes and the old one serves on. After it, the
 * gate's revert routes back to the old instance when it still runs; when it had already gone
 * (it was crashed: the reason for the restart), the new one stays routed under the runtime's
 * restarts rather than leave the proxy with nothing (503).
 */
function backToOld(ctx: JobContext, apps: ProxiedApps, gate: Gate, old: { id: string } | null): Undo {
  return {
    beforeSwitch: () => gate.dispose(),
    async afterSwitch() {
      const running = old ? (await apps.instances(ctx.repo.name).catch(() => [])).find((i) => i.id === old.id && (i.state === 'running' || i.state === 'backoff')) : undefined;
      if (running) return gate.revert();
      ctx.log('error', 'the old instance is gone: the new one stays routed, started again by the runtime when it ends');
    },
  };
}
