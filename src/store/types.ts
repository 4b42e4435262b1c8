/**
 * The records the store keeps, as the rest of autopull sees them. Types only (plus the list
 * of final job states), so every layer above can name them without the SQLite code.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'ignored';
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'skipped', 'interrupted', 'ignored'];

/** Whether a job state is final (the job will not run again). */
export function isFinal(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}
export type JobKind = 'deploy' | 'rollback' | 'mirror' | 'restart';
export type Trigger = 'webhook' | 'manual' | 'recovery' | 'poll' | 'retry';
/** What a job carries beyond its ref: a rollback's target, a mirror target override, or the targets a retry is for. */
export interface JobParams {
  /** rollback: the release to switch to. */
  to?: string;
  owner?: string;
  name?: string;
  /** Configured mirror urls to push to (a retry); all when absent. */
  targets?: string[];
}

export interface Job {
  id: number;
  repo: string;
  kind: JobKind;
  ref: string | null;
  hint_sha: string | null;
  target_sha: string | null;
  force: boolean;
  state: JobState;
  reason: string | null;
  /** Why it did not do its work (lib/errors.ts JOB_FAILURES), or null. */
  failure: string | null;
  trigger: Trigger;
  release: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  owner_pid: number | null;
  /** The owner's start time (see lib/proc.ts): a reused pid is not the owner. */
  owner_start: string | null;
  child_pid: number | null;
  retry_of: number | null;
  /** Kind-specific parameters (rollback: `{ to }`; mirror: override or retry targets). */
  params: JobParams | null;
  deliveries: number[];
}

export interface DeliveryRecord {
  delivery_id: string;
  provider: string | null;
  event: string | null;
  repo: string | null;
  received_at: string;
  remote_addr: string;
  status_code: number;
  outcome: string;
  message: string;
  headers: Record<string, string>;
  body: Buffer;
  body_truncated: boolean;
  /** The ledger row this one re-ran (`POST /api/deliveries/:id/redeliver`), else null. */
  redelivery_of?: number | null;
}

/** A tracked ref whose only change was a deletion: listed as an `ignored` job, never run. */
export interface IgnoredJobInput {
  repo: string;
  ref: string;
  reason: string;
}

export interface Delivery extends Omit<DeliveryRecord, 'headers' | 'body' | 'body_truncated' | 'redelivery_of'> {
  id: number;
  redelivery_of: number | null;
  headers: Record<string, string>;
  body: Buffer;
  body_truncated: boolean;
  jobs: number[];
}

export interface LogLine {
  job_id: number;
  seq: number;
  ts: string;
  stream: string;
  line: string;
}

import type { ReleaseState } from './release-state.js';

export type { ReleaseState } from './release-state.js';
export interface ReleaseRow {
  repo: string;
  id: string;
  sha: string;
  job_id: number | null;
  state: ReleaseState;
  created_at: string;
  /** The release that was live when this one's go-live began: where a failed gate returns. */
  previous?: string | null;
}

export interface EnqueueInput {
  repo: string;
  kind?: JobKind;
  params?: JobParams | null;
  ref: string | null;
  hintSha: string | null;
  trigger: Trigger;
  deliveries?: number[];
  force?: boolean;
  retryOf?: number;
  /**
   * How to merge into a queued job of the same kind: `newer` (a new push: its ref, hint and
   * force replace the queued ones) or `older` (work re-queued by recovery: the queued job is
   * newer, so only the deliveries are added).
   */
  merge?: 'newer' | 'older';
}

export interface BadCommit {
  repo: string;
  sha: string;
  reason: string;
  job_id: number | null;
  marked_at: string;
}
