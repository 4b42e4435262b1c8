import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { shortSha, type ReleaseId, type Sha } from '../lib/ids.js';
import type { Materialiser, Vcs } from '../vcs/index.js';
import type { JobContext } from './context.js';
import { layout, listReleaseDirs, newReleaseId, type Layout } from './releases.js';
import { linkShared } from './shared.js';
import { commandEnv, runCommand, step } from './steps.js';

/**
 * Makes a new release of `sha`: a `building` row first (a crash leaves a row that prune
 * removes), then materialise, link shared, build, each a named step. Ends `built`. Any failure
 * removes the folder and the row: `current` is never touched here. `early.checkout`: the
 * checkout's process, started while the fetch ran (vcs materialiseAhead); `early.whileCheckout`
 * is called once that checkout runs, with the release's folder and command environment.
 */
export async function buildRelease(ctx: JobContext, vcs: Vcs, cache: string, sha: Sha, ref: string, previousSha: string | null, early: Early = {}): Promise<ReleaseId> {
  const deploy = ctx.repo.deploy;
  if (!deploy) throw new Error(`repo ${ctx.repo.name} has no deploy: section`);
  const l = layout(deploy.path);
  mkdirSync(l.releases, { recursive: true });
  const taken = new Set(listReleaseDirs(l) as string[]);
  const id = newReleaseId(new Date(), sha, (x) => taken.has(x) || ctx.releases.get(x) !== null);
  const dir = join(l.releases, id);
  ctx.releases.create(id, sha, ctx.job.id);
  ctx.setTarget({ release: id });
  const env = commandEnv(ctx, sha, dir, previousSha, ref);
  try {
    const checkout = async () => {
      if (!early.checkout) return vcs.materialise(cache, sha, dir, { signal: ctx.signal });
      const written = early.checkout.run(sha, dir);
      try {
        early.whileCheckout?.(dir, env);
      } finally {
        await written;
      }
    };
    await step(ctx, `materialise ${shortSha(sha)} into releases/${id}`, checkout, 'checkout_failed');
    if (deploy.shared.length > 0) {
      await step(ctx, 'link shared', () => {
        const linked = linkShared(l.shared, dir, deploy.shared);
        ctx.log('info', `linked ${linked.join(', ')}`);
      }, 'shared_failed');
    }
    for (const line of deploy.build) {
      await step(ctx, `build: ${line}`, () => runCommand(ctx, line, dir, env), 'build_failed');
    }
  } catch (err) {
    discard(ctx, l, id);
    throw err;
  }
  ctx.releases.move(id, 'built');
  return id;
}

/** What a deploy started ahead of the build (deploy.ts). */
export interface Early {
  checkout?: Materialiser;
  whileCheckout?: (dir: string, env: NodeJS.ProcessEnv) => void;
}

/** Throws away a release that never went live. */
function discard(ctx: JobContext, l: Layout, id: ReleaseId): void {
  rmSync(join(l.releases, id), { recursive: true, force: true });
  ctx.releases.remove(id);
  ctx.log('info', `removed unfinished release ${id}; current is untouched`);
}

/** Removes a release that failed after it went live (current no longer points at it). */
export function dropFailed(ctx: JobContext, l: Layout, id: ReleaseId): void {
  rmSync(join(l.releases, id), { recursive: true, force: true });
  ctx.releases.remove(id);
}
