import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, RepoConfig } from '../config/load.js';
import type { Job, Store } from '../jobs/store.js';
import { errorMessage } from '../lib/errors.js';
import { runShell, formatMs } from '../lib/exec.js';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import { isGlob } from '../lib/glob.js';
import { vcsFor } from '../vcs/index.js';
import { fetchStep, mirrorStep, runMirrorJob } from '../mirror/job.js';
import { planPrune } from './prune.js';
import { layout, listReleaseDirs, newReleaseId, readCurrent, releaseShortSha, type Layout } from './releases.js';
import { linkShared } from './shared.js';
import { switchCurrent } from './switch.js';

/**
 * A deploy job as a list of named steps: fetch, resolve, materialise, link shared, build,
 * switch, restart, prune. Before the switch, a failure only has to throw away the new
 * release; after it, `undo` points `current` back at the previous release and restarts it,
 * so the site is never left half-deployed.
 */

export interface JobContext {
  config: Config;
  repo: RepoConfig;
  job: Job;
  store: Store;
  signal: AbortSignal;
  log(stream: 'step' | 'info' | 'out' | 'err' | 'error', line: string): void;
  /** Records the pid of a running child (its process group), for crash recovery. */
  onChild(pid: number | null): void;
}

export type JobResult = { state: 'succeeded' | 'skipped'; reason: string; release?: string };

export function cacheDir(config: Config, repo: string): string {
  return vcsFor(config.repos.get(repo as RepoConfig['name'])?.vcs ?? 'git').cacheDir(config.data_dir, repo);
}

/** The ref a job deploys: the job's (from the push or --ref), else the first plain configured branch. */
export function defaultRef(repo: RepoConfig): string | null {
  const branch = repo.branches.find((b) => !isGlob(b));
  return branch ? `refs/heads/${branch}` : null;
}

async function step<T>(ctx: JobContext, name: string, fn: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  ctx.log('step', name);
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  const result = await fn();
  ctx.log('info', `${name}: done in ${formatMs(Date.now() - started)}`);
  return result;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}

export function commandEnv(ctx: JobContext, sha: string, releaseDir: string, previousSha: string | null, ref: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AUTOPULL_REPO: ctx.repo.name,
    AUTOPULL_REF: ref,
    AUTOPULL_SHA: sha,
    AUTOPULL_PREVIOUS_SHA: previousSha ?? '',
    AUTOPULL_RELEASE_DIR: releaseDir,
    AUTOPULL_JOB: String(ctx.job.id),
  };
}

async function runCommand(ctx: JobContext, line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  ctx.log('info', `$ ${line}`);
  try {
    await runShell(line, {
      cwd,
      env,
      signal: ctx.signal,
      onLine: (stream, text) => ctx.log(stream, text),
      onSpawn: (pid) => ctx.onChild(pid),
    });
  } finally {
    ctx.onChild(null);
  }
}

export async function runDeploy(ctx: JobContext): Promise<JobResult> {
  const deploy = ctx.repo.deploy;
  // A repo with only mirror: fetches and mirrors.
  if (!deploy) return runMirrorJob(ctx);
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
    if (resolved === null) throw new Error(`${ref} does not exist at ${ctx.repo.url} after the fetch`);
    ctx.store.updateJob(ctx.job.id, { target_sha: resolved });
    if (ctx.job.hint_sha && !resolved.startsWith(ctx.job.hint_sha.toLowerCase())) {
      ctx.log('info', `the delivery said ${shortSha(ctx.job.hint_sha)} but ${ref} is at ${shortSha(resolved)} on the remote; deploying ${shortSha(resolved)}`);
    } else {
      ctx.log('info', `${ref} is at ${resolved}`);
    }
    return resolved;
  });

  const previous = readCurrent(l);
  const previousSha = previous ? (ctx.store.getRelease(ctx.repo.name, previous)?.sha ?? null) : null;
  const previousMatches = previous !== null && (previousSha !== null ? previousSha === sha : releaseShortSha(previous) === shortSha(sha));
  if (previousMatches && !ctx.job.force) {
    return { state: 'skipped', reason: `${shortSha(sha)} is already live (release ${previous})`, release: previous };
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

  ctx.store.setReleaseState(ctx.repo.name, id, 'ready');
  await step(ctx, `switch current -> releases/${id}`, () => switchCurrent(l, id));
  ctx.store.setReleaseState(ctx.repo.name, id, 'live');
  if (previous) ctx.store.setReleaseState(ctx.repo.name, previous, 'ready');

  if (deploy.restart) {
    const restart = deploy.restart;
    try {
      await step(ctx, `restart: ${restart}`, () => runCommand(ctx, restart, dir, env));
    } catch (err) {
      await undoSwitch(ctx, l, id, previous, previousSha, ref);
      throw err;
    }
  }

  await step(ctx, `prune (keep ${deploy.keep})`, () => prune(ctx.store, ctx.repo.name, l, deploy.keep, [id, previous], (m) => ctx.log('info', m)));
  return { state: 'succeeded', reason: `${shortSha(sha)} is live (release ${id})`, release: id };
}

/** Throws away a release that never went live. */
function discard(ctx: JobContext, l: Layout, id: ReleaseId): void {
  rmSync(join(l.releases, id), { recursive: true, force: true });
  ctx.store.deleteRelease(ctx.repo.name, id);
  ctx.log('info', `removed unfinished release ${id}; current is untouched`);
}

/** After a failed restart: point current back at the previous release and restart that. */
async function undoSwitch(ctx: JobContext, l: Layout, failed: ReleaseId, previous: ReleaseId | null, previousSha: string | null, ref: string): Promise<void> {
  ctx.store.setReleaseState(ctx.repo.name, failed, 'failed');
  if (previous === null) {
    ctx.log('error', 'restart failed and there is no previous release to go back to; current stays on the new release');
    return;
  }
  ctx.log('step', `revert: switch current back to releases/${previous}`);
  switchCurrent(l, previous);
  ctx.store.setReleaseState(ctx.repo.name, previous, 'live');
  const restart = ctx.repo.deploy?.restart;
  if (restart) {
    const dir = join(l.releases, previous);
    const env = commandEnv(ctx, previousSha ?? '', dir, null, ref);
    // The revert runs even when the job was aborted: leaving the old code without a restart is worse.
    try {
      ctx.log('info', `$ ${restart}`);
      await runShell(restart, { cwd: dir, env, onLine: (s, t) => ctx.log(s, t), timeoutMs: 120_000 });
    } catch (err) {
      ctx.log('error', `restart of the previous release failed too: ${errorMessage(err)}`);
    }
  }
  rmSync(join(l.releases, failed), { recursive: true, force: true });
  ctx.store.deleteRelease(ctx.repo.name, failed);
}

/** Deletes releases beyond `keep` and every failed or unfinished one; never the protected ones. */
export function prune(store: Store, repo: string, l: Layout, keep: number, protect: (string | null)[], log: (m: string) => void = () => {}): string[] {
  const current = readCurrent(l);
  const rows = store.listReleases(repo);
  const known = new Set(rows.map((r) => r.id));
  const doomed = planPrune(rows, keep, [...protect, current]);
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
