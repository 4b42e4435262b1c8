import type { NotifyEvent } from '../config/schema.js';
import type { Job } from '../store/types.js';
import type { TrackRow, TrackState } from '../store/notify-state.js';

/**
 * What deserves a message, decided on values only. A repo has one track per kind of job that
 * can go wrong on its own: its deploys, its rollbacks, and each mirror target. A track is
 * `ok` or `failed`; a message goes out when it changes, never once per retry:
 *  - deploy and rollback tracks: `failure` on the first failure after a success (three
 *    failures in a row send one message), `recovery` on the first success after failures,
 *    `success` for every other job that made a release live (each one is news);
 *  - mirror tracks: `mirror_failure` on the first failure, `mirror_recovery` on the first
 *    success after it (a healthy mirror stays quiet).
 * Skipped, interrupted and ignored jobs change nothing.
 */
export type TrackKind = 'job' | 'mirror';

/** The state a deploy or rollback job leaves its track in, or null when it says nothing. */
export function jobTrackState(job: Pick<Job, 'state'>): TrackState | null {
  if (job.state === 'succeeded') return 'ok';
  if (job.state === 'failed') return 'failed';
  return null;
}

export function mirrorTrackState(state: 'ok' | 'failed' | 'diverged'): TrackState {
  return state === 'ok' ? 'ok' : 'failed';
}

export function eventFor(kind: TrackKind, previous: Pick<TrackRow, 'state'> | null, state: TrackState): NotifyEvent | null {
  const wasFailing = previous?.state === 'failed';
  if (kind === 'job') {
    if (state === 'ok') return wasFailing ? 'recovery' : 'success';
    return wasFailing ? null : 'failure';
  }
  if (state === 'ok') return wasFailing ? 'mirror_recovery' : null;
  return wasFailing ? null : 'mirror_failure';
}

/** Whether a receiver's `on:` list takes this event; a recovery is also a success. */
export function wants(on: readonly string[], event: NotifyEvent): boolean {
  return on.includes('all') || on.includes(event) || (event === 'recovery' && on.includes('success'));
}

export function trackName(kind: Job['kind'], mirrorTarget?: string): string {
  return mirrorTarget === undefined ? kind : `mirror ${mirrorTarget}`;
}
