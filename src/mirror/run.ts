import type { Config, RepoConfig } from '../config/load.js';
import type { MirrorBook, MirrorStatus } from '../store/mirror-status.js';
import type { Job } from '../store/store.js';
import { errorMessage } from '../lib/errors.js';
import { formatMs } from '../lib/exec.js';
import type { GitAuth } from '../vcs/git.js';
import { knownHostsFile, type Vcs } from '../vcs/index.js';
import { backoffMs } from './backoff.js';
import { describeResult, mirrorTarget } from './push.js';
import { redactText } from '../lib/redact.js';
import { resolveTargets, type ResolvedTarget } from './targets.js';

/** What the mirror step needs of a job (the deploy JobContext is one). */
export interface MirrorContext {
  config: Config;
  repo: RepoConfig;
  job: Job;
  /** This repo's mirror status. */
  mirrors: MirrorBook;
  signal: AbortSignal;
  log(stream: 'step' | 'info' | 'out' | 'err' | 'error', line: string): void;
}

export interface MirrorRun {
  ok: number;
  failed: number;
  diverged: number;
  statuses: MirrorStatus[];
}

function targetAuth(config: Config, repo: RepoConfig, t: ResolvedTarget): GitAuth {
  const auth: GitAuth = { knownHosts: knownHostsFile(config.data_dir) };
  const key = t.options.ssh_key ?? repo.ssh_key;
  if (key) auth.sshKey = key;
  if (t.options.token_env) {
    const token = process.env[t.options.token_env];
    if (!token) throw new Error(`environment variable ${t.options.token_env} (token_env) is not set or empty`);
    auth.token = token;
  }
  return auth;
}

/**
 * The mirror step, run after every fetch: pushes to each target in parallel. It never
 * throws for a target (only for an abort): a failing target is logged with git's message
 * (credentials masked), recorded in its status row with a retry time, and neither the
 * job, the deploy nor the other targets wait for it.
 */
export async function runMirrors(ctx: MirrorContext, vcs: Vcs, cache: string): Promise<MirrorRun> {
  const run: MirrorRun = { ok: 0, failed: 0, diverged: 0, statuses: [] };
  const { targets, skipped } = resolveTargets(ctx.repo.mirror, ctx.job.params);
  for (const s of skipped) ctx.log('info', `mirror skipped: ${s}`);
  if (targets.length === 0) return run;
  const secrets = targets.map((t) => (t.options.token_env ? process.env[t.options.token_env] : undefined));
  const clean = (s: string) => redactText(s, secrets);

  let source: Awaited<ReturnType<Vcs['mirrorSource']>> | null = null;
  let sourceError: string | null = null;
  try {
    source = await vcs.mirrorSource(cache, { signal: ctx.signal });
    for (const s of source.skipped) ctx.log('info', `not mirrored: ${s}`);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    sourceError = `preparing the mirror source failed: ${clean(errorMessage(err))}`;
  }

  await Promise.all(
    targets.map(async (t) => {
      const started = Date.now();
      try {
        if (source === null) throw new Error(sourceError ?? 'no mirror source');
        const result = await mirrorTarget(source, t, targetAuth(ctx.config, ctx.repo, t), ctx.signal);
        const summary = describeResult(result);
        if (result.rejected.length > 0) {
          run.diverged++;
          ctx.log('error', `mirror ${t.shown}: ${summary}; the other refs went through (force: false keeps a diverged ref as it is)`);
          run.statuses.push(ctx.mirrors.record({ target: t.shown, job: ctx.job.id, state: 'diverged', summary, error: `diverged: ${result.rejected.map((r) => `${r.ref} (${r.reason})`).join(', ')}` }));
        } else {
          run.ok++;
          ctx.log('info', `mirror ${t.shown}: ${summary} in ${formatMs(Date.now() - started)}`);
          run.statuses.push(ctx.mirrors.record({ target: t.shown, job: ctx.job.id, state: 'ok', summary }));
        }
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        run.failed++;
        const message = clean(errorMessage(err));
        const prev = ctx.mirrors.get(t.shown);
        const delay = backoffMs((prev?.failures ?? 0) + 1);
        const retryAt = new Date(Date.now() + delay);
        const retryParams = { ...(ctx.job.params?.owner ? { owner: ctx.job.params.owner, name: ctx.job.params.name } : {}), targets: [t.key] };
        ctx.log('error', `mirror ${t.shown} failed: ${message} (retry in ${formatMs(Math.round(delay / 1000) * 1000)})`);
        run.statuses.push(ctx.mirrors.record({ target: t.shown, job: ctx.job.id, state: 'failed', summary: 'failed', error: message, retryAt, retryParams }));
      }
    }),
  );
  return run;
}

export function describeRun(r: MirrorRun): string {
  const parts = [`${r.ok} ok`];
  if (r.diverged) parts.push(`${r.diverged} with diverged refs`);
  if (r.failed) parts.push(`${r.failed} failed (retry scheduled)`);
  return `mirrors: ${parts.join(', ')}`;
}
