import { mkdirSync } from 'node:fs';
import type { Config, RepoConfig } from '../config/load.js';
import { JobFailure } from '../lib/errors.js';
import { isGlob } from '../lib/glob.js';
import { shortSha } from '../lib/ids.js';
import { redactUrl } from '../lib/redact.js';
import { vcsFor, type Materialiser, type Vcs } from '../vcs/index.js';
import { fetchStep, mirrorStep, runMirrorJob } from '../mirror/job.js';
import { requireApps } from './apps.js';
import type { JobContext, JobResult } from './context.js';
import { goLiveOrDrop } from './gate/index.js';
import { prune } from './prune.js';
import { buildRelease } from './release-build.js';
import { layout, readCurrent, releaseShortSha, type Layout } from './releases.js';
import { resumeInterruptedGate } from './resume.js';
import { startCommandAhead, step, type PendingCommand } from './steps.js';

export type { JobContext, JobResult } from './context.js';

/**
 * A deploy job as a plan of named steps:
 *   fetch -> mirror (never fails the job) -> resolve ref -> [finish an interrupted gate]
 *   -> skip when live or marked bad -> build release (materialise, link shared, build)
 *   -> gate (prepare, verify, switch, watch; revert or dispose on failure) -> prune.
 * Each step fails with its own code (fetch_failed, build_failed, unhealthy, ...).
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
  if (ref === null) throw new JobFailure('ref_not_found', `repo ${ctx.repo.name} tracks only branch globs; give a ref (autopull deploy ${ctx.repo.name} --ref BRANCH)`);

  const plan: Plan = { vcs, cache, l, ref, keep: deploy.keep };
  try {
    return await deployRef(ctx, plan);
  } finally {
    await plan.ahead?.cancel();
    await plan.restart?.cancel();
  }
}

interface Plan {
  vcs: Vcs;
  cache: string;
  l: Layout;
  ref: string;
  keep: number;
  /** The checkout's process, started once the fetch's runs; let go when the job ends without it. */
  ahead?: Materialiser;
  /** The restart command's process (restart gate, no build), started while the checkout runs. */
  restart?: PendingCommand;
}

async function deployRef(ctx: JobContext, plan: Plan): Promise<JobResult> {
  const { vcs, cache, l, ref } = plan;
  // Started beside the fetch, the checkout's process waits for its commit: its start (a
  // blocking fork of this process) costs the fetch's time, not the deploy's.
  await fetchStep(ctx, vcs, cache, () => {
    plan.ahead ??= vcs.materialiseAhead?.(cache, { signal: ctx.signal });
  });
  // Never throws for a target: failures are logged, recorded and retried on their own.
  if (ctx.repo.mirror?.length) await mirrorStep(ctx, vcs, cache);
  const sha = await step(ctx, `resolve ${ref}`, async () => {
    const resolved = await vcs.resolve(cache, ref);
    if (resolved === null) throw new JobFailure('ref_not_found', `${ref} does not exist at ${redactUrl(ctx.repo.url)} after the fetch`);
    ctx.setTarget({ target_sha: resolved });
    if (ctx.job.hint_sha && !resolved.startsWith(ctx.job.hint_sha.toLowerCase())) {
      ctx.log('info', `the delivery said ${shortSha(ctx.job.hint_sha)} but ${ref} is at ${shortSha(resolved)} on the remote; deploying ${shortSha(resolved)}`);
    } else {
      ctx.log('info', `${ref} is at ${resolved}`);
    }
    return resolved;
  });

  const resumed = await resumeInterruptedGate(ctx, l, ref);
  // A push that came in meanwhile (merged into this job) still has to be deployed.
  if (resumed && resumed.release !== undefined && ctx.releases.get(resumed.release)?.sha === sha) return resumed;
  if (resumed) ctx.log('info', `${resumed.reason}; now deploying ${shortSha(sha)}`);

  const previous = readCurrent(l);
  const previousSha = previous ? (ctx.releases.get(previous)?.sha ?? null) : null;
  const previousMatches = previous !== null && (previousSha !== null ? previousSha === sha : releaseShortSha(previous) === shortSha(sha));
  if (previousMatches && !ctx.job.force) {
    return { state: 'skipped', reason: `${shortSha(sha)} is already live (release ${previous})`, release: previous };
  }
  const bad = ctx.releases.getBad(sha);
  if (bad && !ctx.job.force) {
    return {
      state: 'skipped',
      reason: `${shortSha(sha)} is marked bad (${bad.reason}); push a newer commit, or run: autopull deploy ${ctx.repo.name} --ref ${sha} --force`,
    };
  }

  const id = await buildRelease(ctx, vcs, cache, sha, ref, previousSha, { checkout: plan.ahead, whileCheckout: restartAhead(ctx, plan) });
  await goLiveOrDrop(ctx, l, { release: id, sha, ref, previous, previousSha, restart: plan.restart });
  if (ctx.job.force) ctx.releases.clearBad(sha);
  await step(ctx, `prune (keep ${plan.keep})`, () => prune(ctx.releases, l, plan.keep, [id, previous], (m) => ctx.log('info', m)));
  return { state: 'succeeded', reason: `${shortSha(sha)} is live (release ${id})`, release: id };
}

/**
 * For a repo that goes live by its restart command right after the checkout (no build, no
 * supervised app): that command's process is started while the checkout runs, and runs the
 * line when the gate gets to it.
 */
function restartAhead(ctx: JobContext, plan: Plan): ((dir: string, env: NodeJS.ProcessEnv) => void) | undefined {
  const deploy = ctx.repo.deploy;
  if (!deploy?.restart || deploy.start || deploy.build.length > 0) return undefined;
  const line = deploy.restart;
  return (dir, env) => {
    mkdirSync(dir, { recursive: true }); // its working directory, made by the checkout too
    plan.restart = startCommandAhead(ctx, line, dir, env);
  };
}
