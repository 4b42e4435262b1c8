import { childEnv, hiddenValues } from '../lib/child-env.js';
import { formatMs, runShell } from '../lib/exec.js';
import type { JobContext } from './context.js';

/** Runs one named step: logged when it starts and with its duration when it ends. */
export async function step<T>(ctx: JobContext, name: string, fn: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  ctx.log('step', name);
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  const result = await fn();
  ctx.log('info', `${name}: done in ${formatMs(Date.now() - started)}`);
  return result;
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}

/**
 * The environment of a build, start or restart command: autopull's own without the config's
 * secrets (lib/child-env.ts), and the AUTOPULL_* variables, the only way delivery data
 * reaches a user's command.
 */
export function commandEnv(ctx: JobContext, sha: string, releaseDir: string, previousSha: string | null, ref: string): NodeJS.ProcessEnv {
  return childEnv({
    AUTOPULL_REPO: ctx.repo.name,
    AUTOPULL_REF: ref,
    AUTOPULL_SHA: sha,
    AUTOPULL_PREVIOUS_SHA: previousSha ?? '',
    AUTOPULL_RELEASE_DIR: releaseDir,
    AUTOPULL_JOB: String(ctx.job.id),
  });
}

export async function runCommand(ctx: JobContext, line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  ctx.log('info', `$ ${line}`);
  try {
    await runShell(line, {
      cwd,
      env,
      signal: ctx.signal,
      // A secret the command found some other way (a file) is still masked in the job log.
      secrets: hiddenValues(),
      onLine: (stream, text) => ctx.log(stream, text),
      onSpawn: (pid) => ctx.onChild(pid),
    });
  } finally {
    ctx.onChild(null);
  }
}
