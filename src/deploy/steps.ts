import { childEnv, hiddenValues } from '../lib/child-env.js';
import { runGated, runShell } from '../lib/exec.js';

export { abortError, step } from '../lib/step.js';
import type { JobContext } from './context.js';

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

/** A command whose process was started ahead (`startCommandAhead`). */
export interface PendingCommand {
  /** `runCommand` of the line, by the waiting process. */
  run(): Promise<void>;
  /** Drops it unrun; a no-op after `run`. */
  cancel(): Promise<void>;
}

/**
 * `runCommand(ctx, line, cwd, env)` with its process started now and the line run at `run()`
 * (lib/exec.ts runGated): the start's cost is paid while something else runs. Its pid is the
 * job's child from now on (a crash recovery kills it: unrun, it would exit anyway).
 */
export function startCommandAhead(ctx: JobContext, line: string, cwd: string, env: NodeJS.ProcessEnv): PendingCommand {
  const gated = runGated('sh', ['-c', line], {
    cwd,
    env,
    signal: ctx.signal,
    secrets: hiddenValues(),
    display: line,
    onLine: (stream, text) => ctx.log(stream, text),
    onSpawn: (pid) => ctx.onChild(pid),
  });
  let ran = false;
  return {
    async run() {
      ran = true;
      ctx.log('info', `$ ${line}`);
      try {
        await gated.go();
      } finally {
        ctx.onChild(null);
      }
    },
    async cancel() {
      if (ran) return;
      ran = true;
      await gated.cancel();
      ctx.onChild(null);
    },
  };
}
