import { redactUrl } from '../lib/redact.js';
import { formatMs } from '../lib/exec.js';
import { repoAuth, vcsFor, type Vcs } from '../vcs/index.js';
import { describeRun, runMirrors, type MirrorContext } from './run.js';

/**
 * A job that only fetches and mirrors: `autopull mirror`, retries, and pushes to a repo with
 * `mirror:` and no `deploy:`. It succeeds when the fetch does; target failures are in the
 * log, the targets' status and their retries, never in the job's state.
 */
export async function runMirrorJob(ctx: MirrorContext): Promise<{ state: 'succeeded' | 'skipped'; reason: string }> {
  if (!ctx.repo.mirror || ctx.repo.mirror.length === 0) return { state: 'skipped', reason: `repo ${ctx.repo.name} has neither deploy: nor mirror:` };
  const vcs = vcsFor(ctx.repo.vcs);
  const cache = vcs.cacheDir(ctx.config.data_dir, ctx.repo.name);
  await fetchStep(ctx, vcs, cache);
  const run = await mirrorStep(ctx, vcs, cache);
  return { state: 'succeeded', reason: describeRun(run) };
}

async function timed<T>(ctx: MirrorContext, name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  ctx.log('step', name);
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
  const result = await fn();
  ctx.log('info', `${name}: done in ${formatMs(Date.now() - started)}`);
  return result;
}

export function fetchStep(ctx: MirrorContext, vcs: Vcs, cache: string): Promise<void> {
  return timed(ctx, `fetch ${redactUrl(ctx.repo.url)}`, () =>
    vcs.fetch(cache, ctx.repo.url, repoAuth(ctx.config.data_dir, ctx.repo.ssh_key), { signal: ctx.signal, onLine: (s, t) => ctx.log(s, t) }),
  );
}

export function mirrorStep(ctx: MirrorContext, vcs: Vcs, cache: string) {
  return timed(ctx, `mirror to ${ctx.repo.mirror?.length ?? 0} target(s)`, async () => {
    const run = await runMirrors(ctx, vcs, cache);
    ctx.log('info', describeRun(run));
    return run;
  });
}
