import { errorMessage, JobFailure, LeaseLostError, ShutdownError } from '../../lib/errors.js';
import { shortSha } from '../../lib/ids.js';
import type { JobContext } from '../context.js';
import type { Gate, GoLive } from './types.js';

/** A failure that says the commit itself is bad: it is marked so and not deployed again automatically. */
const COMMIT_IS_BAD = new Set(['unhealthy', 'probation_failed']);

/**
 * Takes a release through a gate and keeps the ledger in step:
 *   built/replaced --prepare, verify--> switching --switch, watch--> live (the previous: replaced)
 * On failure the release is `failed`, and this function alone decides the undo: `revert` when
 * the switch happened, else `dispose`. Stopping autopull is no verdict: nothing is undone, the
 * release keeps its state (`switching` after the switch: the next job runs the gate again).
 * Nor is a lost lease: the process that took the job over runs the gate again.
 */
export async function passGate(ctx: JobContext, gate: Gate, g: GoLive): Promise<void> {
  const previous = g.previous !== null && g.previous !== g.release ? g.previous : null;
  // A resumed gate's release went live before (the switch is done): any failure is a revert.
  let switched = g.resumed === true;
  try {
    await gate.prepare();
    await gate.verify();
    // Recorded before the switch: if we die inside it, the next job finds current on a
    // `switching` release and runs the gate again instead of calling it live.
    ctx.releases.move(g.release, 'switching', { previous });
    if (previous) ctx.releases.move(previous, 'replaced');
    switched = true;
    await gate.switch();
    await gate.watch();
  } catch (err) {
    // A stop, or a lease another process took over: no verdict, nothing undone (the work runs again).
    if (ctx.signal.reason instanceof ShutdownError || ctx.signal.reason instanceof LeaseLostError) throw err;
    ctx.releases.move(g.release, 'failed');
    if (switched) {
      if (previous) ctx.releases.move(previous, 'live');
      await gate.revert();
    } else {
      await gate.dispose();
    }
    // A job aborted by its timeout failed its checks for want of time: no verdict on the commit.
    if (err instanceof JobFailure && COMMIT_IS_BAD.has(err.code) && !ctx.signal.aborted) {
      ctx.releases.markBad(g.sha, `job ${ctx.job.id}: ${err.message}`, ctx.job.id);
      ctx.log('error', `${shortSha(g.sha)} is now marked bad: it will not be deployed again automatically`);
    }
    throw err instanceof JobFailure ? err : new JobFailure('internal', errorMessage(err), { cause: err });
  }
  ctx.releases.move(g.release, 'live');
  // Past the verdict: a failure here is logged, never a revert (the new release is live and good).
  await gate.finish?.().catch((err: unknown) => ctx.log('error', `after going live: ${errorMessage(err)}`));
}
