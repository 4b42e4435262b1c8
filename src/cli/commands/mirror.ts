import { enqueueMirror } from '../../runner/manual.js';
import { runJobCommand } from './deploy.js';

/**
 * `autopull mirror REPO`: fetch and push the repo's mirrors now, through the running server
 * when one runs, else in this process. Exit 1 when the job fails or a target did not take
 * every ref (the target lines in the log say why).
 */
export async function mirrorCommand(repo: string, opts: { config?: string; wait?: boolean }): Promise<void> {
  const job = await runJobCommand(opts.config, {
    repo,
    action: 'mirror',
    body: {},
    enqueue: (config, store) => enqueueMirror(config, store, repo),
    wait: opts.wait !== false,
  });
  if (job && (job.failure === 'mirror_failed' || job.failure === 'mirror_diverged')) process.exitCode = 1;
}
