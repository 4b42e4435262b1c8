import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JobFailure } from '../lib/errors.js';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import { isKnownGood } from '../store/release-state.js';
import { requireApps } from './apps.js';
import type { JobContext, JobResult } from './context.js';
import { goLive } from './gate/index.js';
import { layout, readCurrent } from './releases.js';
import { resumeInterruptedGate } from './resume.js';
import { step } from './steps.js';

/**
 * `autopull rollback`: switches to the previous known-good release (or the one named) through
 * the same gate as a deploy. Only a release that passed its health check (live or replaced)
 * can be the target. The commit rolled away from is marked bad, so that a repeated delivery
 * or a poll does not bring it straight back; a newer commit or `deploy --force` clears that.
 */
export async function runRollback(ctx: JobContext): Promise<JobResult> {
  const deploy = ctx.repo.deploy;
  if (!deploy) throw new Error(`repo ${ctx.repo.name} has no deploy: section`);
  requireApps(ctx.repo, ctx.apps);
  const l = layout(deploy.path);
  // Killed inside an earlier gate (this rollback's, queued again): finish that one, do not go further back.
  const resumed = await resumeInterruptedGate(ctx, l, 'rollback');
  if (resumed) return resumed;
  const current = readCurrent(l);
  const currentSha = current ? (ctx.releases.get(current)?.sha ?? null) : null;
  const wanted = typeof ctx.job.params?.to === 'string' ? ctx.job.params.to : null;
  const rows = ctx.releases.list().filter((r) => existsSync(join(l.releases, r.id)));

  const target = await step(ctx, wanted ? `find release ${wanted}` : 'find the previous good release', () => {
    if (wanted) {
      const row = rows.find((r) => r.id === wanted);
      if (!row) throw new JobFailure('no_rollback_target', `release ${wanted} does not exist (releases: ${rows.map((r) => r.id).join(', ') || 'none'})`);
      if (row.id !== current && !isKnownGood(row.state)) {
        throw new JobFailure('no_rollback_target', `release ${wanted} is ${row.state}: it never passed its health check, so it cannot be a rollback target`);
      }
      return row;
    }
    const row = rows.find((r) => r.id !== current && isKnownGood(r.state));
    if (!row) throw new JobFailure('no_rollback_target', `there is no earlier good release to roll back to (current: ${current ?? 'none'})`);
    return row;
  });
  if (target.id === current) return { state: 'skipped', reason: `release ${target.id} is already live` };
  ctx.setTarget({ release: target.id, target_sha: target.sha });
  ctx.log('info', `rolling back from ${current ?? '(none)'} to ${target.id} (${shortSha(target.sha)})`);

  await goLive(ctx, l, { release: target.id as ReleaseId, sha: target.sha, ref: 'rollback', previous: current, previousSha: currentSha });
  // A failed rollback has marked the target release failed (the gate did); it is pruned later.
  if (currentSha && currentSha !== target.sha) {
    ctx.releases.markBad(currentSha, `rolled back from by job ${ctx.job.id}`, ctx.job.id);
    ctx.log('info', `${shortSha(currentSha)} is marked bad: it will not be deployed again automatically`);
  }
  return { state: 'succeeded', reason: `rolled back to release ${target.id} (${shortSha(target.sha)})`, release: target.id };
}
