import { redactUrl } from '../lib/redact.js';
import { step } from '../lib/step.js';
import type { JobFailureCode } from '../lib/errors.js';
import { repoAuth, vcsFor, type Vcs } from '../vcs/index.js';
import { describeRun, runMirrors, type MirrorContext } from './run.js';

/**
 * A job that only fetches and mirrors: `autopull mirror`, retries, and pushes to a repo with
 * `mirror:` and no `deploy:`. It succeeds when the fetch does; target failures are in the
 * log, the targets' status and their retries, never in the job's state.
 */
export async function runMirrorJob(ctx: MirrorContext): Promise<{ state: 'succeeded' | 'skipped'; reason: string; failure?: JobFailureCode }> {
  if (!ctx.repo.mirror || ctx.repo.mirror.length === 0) return { state: 'skipped', reason: `repo ${ctx.repo.name} has neither deploy: nor mirror:` };
  const vcs = vcsFor(ctx.repo.vcs);
  const cache = vcs.cacheDir(ctx.config.data_dir, ctx.repo.name);
  await fetchStep(ctx, vcs, cache);
  const run = await mirrorStep(ctx, vcs, cache);
  const failure = run.failed > 0 ? 'mirror_failed' : run.diverged > 0 ? 'mirror_diverged' : undefined;
  return { state: 'succeeded', reason: describeRun(run), ...(failure ? { failure } : {}) };
}

/** The fetch step; `onStarted` is called once its (first) process runs. */
export function fetchStep(ctx: MirrorContext, vcs: Vcs, cache: string, onStarted?: () => void): Promise<void> {
  return step(ctx, `fetch ${redactUrl(ctx.repo.url)}`, () =>
    vcs.fetch(cache, ctx.repo.url, repoAuth(ctx.config.data_dir, ctx.repo.ssh_key), { signal: ctx.signal, onLine: (s, t) => ctx.log(s, t), onSpawn: () => onStarted?.() }),
    'fetch_failed',
  );
}

export function mirrorStep(ctx: MirrorContext, vcs: Vcs, cache: string) {
  return step(ctx, `mirror to ${ctx.repo.mirror?.length ?? 0} target(s)`, async () => {
    const run = await runMirrors(ctx, vcs, cache);
    ctx.log('info', describeRun(run));
    return run;
  });
}
