import type { Config, RepoConfig } from '../config/load.js';
import type { Job, Store } from '../store/store.js';
import type { Apps } from './apps.js';

export interface JobContext {
  config: Config;
  repo: RepoConfig;
  job: Job;
  store: Store;
  signal: AbortSignal;
  /** The server's supervised apps; absent in an in-process CLI run. */
  apps?: Apps;
  log(stream: 'step' | 'info' | 'out' | 'err' | 'error', line: string): void;
  /** Records the pid of a running child (its process group), for crash recovery. */
  onChild(pid: number | null): void;
}

export type JobResult = { state: 'succeeded' | 'skipped'; reason: string; release?: string };
