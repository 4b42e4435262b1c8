import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, RepoConfig } from '../config/load.js';
import type { Store } from '../jobs/store.js';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import { ShutdownError } from '../lib/errors.js';
import { redactUrl } from '../lib/redact.js';
import { isGlob } from '../lib/glob.js';
import { vcsFor } from '../vcs/index.js';
import { fetchStep, mirrorStep, runMirrorJob } from '../mirror/job.js';
import { requireApps } from './apps.js';
import type { JobContext, JobResult } from './context.js';
import { dropFailed, GateError, goLive, type GoLive } from './go-live.js';
import { planPrune } from './prune.js';
import { layout, listReleaseDirs, newReleaseId, readCurrent, releaseShortSha, type Layout } from './releases.js';
import { linkShared } from './shared.js';
import { commandEnv, runCommand, step } from './steps.js';

export type { JobContext, JobResult } from './context.js';

/**
 * A deploy job as a list of named steps: fetch, resolve, materialise, link shared, build,
 * then the go-live gate (switch, restart, wait healthy, probation), then prune. Before the
 * switch a failure only throws away the new release; after it, the gate switches back.
 */

export function cacheDir(config: Config, repo: string): string {
  return vcsFor(config.repos.get(repo as RepoConfig['name'])?.vcs ?? 'git').cacheDir(config.data_dir, repo);
}

/** The ref a job deploys: the job's (from the push or --ref), else the first plain configured branch. */
export function defaultRef(repo: RepoConfig): string | null {
  const branch = repo.branches.find((b) => !isGlob(b));
  return branch ? `refs/heads/${branch}` : null;
}

export async function runDeploy(ctx: JobContext): Promise<JobResult> {
  const deploy = ctx.repo.deploy;
  // A repo with only mirror: fetches and mirrors.
  if (!deploy) return runMirrorJob(ctx);
  requireApps(ctx.repo, ctx.apps);
  const vcs = vcsFor(ctx.repo.vcs);
  const cache = vcs.cacheDir(ctx.config.data_dir, ctx.repo.name);
  const l = layout(deploy.path);
  const ref = ctx.job.ref ?? defaultRef(ctx.repo);
  if (ref === null) throw new Error(`repo ${ctx.repo.name} tracks only branch globs; give a ref (autopull deploy ${ctx.repo.name} --ref BRANCH)`);

  await fetchStep(ctx, vcs, cache);
  // Never throws for a target: failures are logged, recorded and retried on their own.
  if (ctx.repo.mirror?.length) await mirrorStep(ctx, vcs, cache);

  const sha = await step(ctx, `resolve ${ref}`, async () => {
    const resolved = await vcs.resolve(cache, ref);
    if (resolved === null) throw new Error(`${ref} does not exist at ${redactUrl(ctx.repo.url)} after the fetch`);
    ctx.store.updateJob(ctx.job.id, { target_sha: resolved });
    if (ctx.job.hint_sha && !resolved.startsWith(ctx.job.hint_sha.toLowerCase())) {
      ctx.log('info', `the delivery said ${shortSha(ctx.job.hint_sha)} but ${ref} is at ${shortSha(resolved)} on the remote; deploying ${shortSha(resolved)}`);
    } else {
      ctx.log('info', `${ref} is at ${resolved}`);
    }
    return resolved;
  });

  const previous = readCurrent(l);
  const previousRow = previous ? ctx.store.getRelease(ctx.repo.name, previous) : null;
  const previousSha = previousRow?.sha ?? null;
  const previousMatches = previous !== null && (previousSha !== null ? previousSha === sha : releaseShortSha(previous) === shortSha(sha));
  if (previous !== null && previousRow?.state === 'switching') {
    const finished = await finishInterruptedGate(ctx, l, previous, previousRow.sha, ref);
    // A push that came in meanwhile (merged into this job) still has to be deployed.
    if (previousRow.sha === sha) return finished;
    ctx.log('info', `${finished.reason}; now deploying ${shortSha(sha)}`);
  }
  if (previousMatches && !ctx.job.force) {
    return { state: 'skipped', reason: `${shortSha(sha)} is already live (release ${previous})`, release: previous };
  }
  const bad = ctx.store.getBad(ctx.repo.name, sha);
  if (bad && !ctx.job.force) {
    return {
      state: 'skipped',
      reason: `${shortSha(sha)} is marked bad (${bad.reason}); push a newer commit, or run: autopull deploy ${ctx.repo.name} --ref ${sha} --force`,
    };
  }

  mkdirSync(l.releases, { recursive: true });
  const taken = new Set(listReleaseDirs(l) as string[]);
  const id = newReleaseId(new Date(), sha, (x) => taken.has(x) || ctx.store.getRelease(ctx.repo.name, x) !== null);
  const dir = join(l.releases, id);
  // The row comes before the folder: a crash leaves a `building` row, which start-up cleans.
  ctx.store.putRelease({ repo: ctx.repo.name, id, sha, job_id: ctx.job.id, state: 'building' });
  ctx.store.updateJob(ctx.job.id, { release: id });
  const env = commandEnv(ctx, sha, dir, previousSha, ref);

  try {
    await step(ctx, `materialise ${shortSha(sha)} into releases/${id}`, () => vcs.materialise(cache, sha, dir, { signal: ctx.signal }));
    if (deploy.shared.length > 0) {
      await step(ctx, 'link shared', () => {
        const linked = linkShared(l.shared, dir, deploy.shared);
        ctx.log('info', `linked ${linked.join(', ')}`);
      });
    }
    for (const line of deploy.build) {
      await step(ctx, `build: ${line}`, () => runCommand(ctx, line, dir, env));
    }
  } catch (err) {
    discard(ctx, l, id);
    throw err;
  }

  await gate(ctx, l, { release: id, sha, ref, previous, previousSha });
  if (ctx.job.force) ctx.store.clearBad(ctx.repo.name, sha);

  await step(ctx, `prune (keep ${deploy.keep})`, () => prune(ctx.store, ctx.repo.name, l, deploy.keep, [id, previous], (m) => ctx.log('info', m)));
  return { state: 'succeeded', reason: `${shortSha(sha)} is live (release ${id})`, release: id };
}

/** Runs the go-live gate; on a health failure marks the commit bad; drops a release that failed. */
export async function gate(ctx: JobContext, l: Layout, g: GoLive): Promise<void> {
  try {
    await goLive(ctx, l, g);
  } catch (err) {
    if (ctx.signal.reason instanceof ShutdownError) throw err;
    if (err instanceof GateError && err.health) {
      ctx.store.markBad(ctx.repo.name, g.sha, `job ${ctx.job.id}: ${err.message}`, ctx.job.id);
      ctx.log('error', `${shortSha(g.sha)} is now marked bad: it will not be deployed again automatically`);
    }
    if (g.previous !== null) dropFailed(ctx, l, g.release);
    throw err;
  }
}

/**
 * An earlier autopull died inside the gate (after the switch, before the end of probation):
 * `current` points at a release that never passed. Run the gate again for that release, with
 * the last good release as the one to go back to, before anything else.
 */
export async function finishInterruptedGate(ctx: JobContext, l: Layout, release: ReleaseId, sha: string, ref: string): Promise<JobResult> {
  const rows = ctx.store.listReleases(ctx.repo.name);
  const recorded = rows.find((r) => r.id === ctx.store.getRelease(ctx.repo.name, release)?.previous && r.state !== 'failed' && existsSync(join(l.releases, r.id)));
  // Releases made before `previous` was recorded: the newest good one.
  const before = recorded ?? rows.find((r) => r.id !== release && (r.state === 'ready' || r.state === 'live')) ?? null;
  ctx.log('info', `release ${release} went live without finishing its checks (autopull stopped); running them again`);
  ctx.store.updateJob(ctx.job.id, { release });
  await gate(ctx, l, { release, sha, ref, previous: (before?.id as ReleaseId | undefined) ?? null, previousSha: before?.sha ?? null });
  return { state: 'succeeded', reason: `${shortSha(sha)} is live (release ${release}, checks finished after a restart of autopull)`, release };
}

/** Throws away a release that never went live. */
function discard(ctx: JobContext, l: Layout, id: ReleaseId): void {
  rmSync(join(l.releases, id), { recursive: true, force: true });
  ctx.store.deleteRelease(ctx.repo.name, id);
  ctx.log('info', `removed unfinished release ${id}; current is untouched`);
}

/**
 * Deletes releases beyond `keep` and every failed or unfinished one; never the protected
 * ones, `current`, nor a release of a job still running (in this process or another one: a
 * `building` release whose job runs is being built, not left over). Recovery decides when a
 * running job is dead (its owner pid and start time); only then may its release go.
 */
export function prune(store: Store, repo: string, l: Layout, keep: number, protect: (string | null)[], log: (m: string) => void = () => {}): string[] {
  const current = readCurrent(l);
  // One read snapshot: a release row seen `building` is seen with its job's state at that time.
  const { rows, running } = store.db.transaction(() => ({ rows: store.listReleases(repo), running: store.listJobs({ repo, states: ['running'] }) }))();
  const busyJobs = new Set(running.map((j) => j.id));
  const inUse = [...running.map((j) => j.release), ...rows.filter((r) => r.job_id !== null && busyJobs.has(r.job_id)).map((r) => r.id)];
  const known = new Set(rows.map((r) => r.id));
  const doomed = planPrune(rows, keep, [...protect, current, ...inUse]);
  for (const id of doomed) {
    rmSync(join(l.releases, id), { recursive: true, force: true });
    store.deleteRelease(repo, id);
  }
  // Folders the store does not know were not made by this data_dir: report, never delete.
  for (const id of listReleaseDirs(l)) {
    if (!known.has(id) && id !== current) log(`releases/${id} is not known to this data_dir; left alone`);
  }
  if (doomed.length > 0) log(`removed ${doomed.map((d) => `releases/${d}`).join(', ')}`);
  return doomed;
}
