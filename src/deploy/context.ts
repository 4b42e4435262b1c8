import type { Config, RepoConfig } from '../config/load.js';
import type { JobFailureCode } from '../lib/errors.js';
import type { StepReporter } from '../lib/step.js';
import type { ReleaseLedger } from '../store/release-ledger.js';
import type { MirrorBook } from '../store/mirror-status.js';
import type { Job } from '../store/store.js';
import type { Apps } from './apps.js';

/** What a deploy, rollback or mirror job is given: the job, its reporter and the ledgers it may change. */
export interface JobContext extends StepReporter {
  config: Config;
  repo: RepoConfig;
  job: Job;
  /** This repo's releases and bad commits. */
  releases: ReleaseLedger;
  /** This repo's mirror status (the mirror step). */
  mirrors: MirrorBook;
  /** The server's supervised apps; absent in an in-process CLI run. */
  apps?: Apps;
  /** Records the pid of a running child (its process group), for crash recovery. */
  onChild(pid: number | null): void;
  /** Records what the job resolved: the commit it deploys, the release it made. */
  setTarget(fields: { target_sha?: string; release?: string }): void;
}

export type JobResult = { state: 'succeeded' | 'skipped'; reason: string; release?: string; failure?: JobFailureCode };
