import { runShell } from '../lib/exec.js';

export { abortError, step } from '../lib/step.js';
import type { JobContext } from './context.js';

/** The AUTOPULL_* variables: the only way delivery data reaches a user's command. */
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

export async function runCommand(ctx: JobContext, line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
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
