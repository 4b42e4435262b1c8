/**
 * The release state machine: the one place that says what a release's state means and which
 * moves are allowed. The store refuses any other move, so no code path can, say, call a
 * release that never passed a health check "good".
 *
 *   building ──► built ──► switching ──► live ──► replaced
 *      │           │           │          │  ▲        │
 *      └───────────┴───────────┴──► failed   └────────┘ (revert / rollback through switching)
 *
 * - building:  its folder is being made (materialise, link shared, build).
 * - built:     complete, never health-checked. Not a rollback target, not kept by prune.
 * - switching: inside the gate; `current` may point at it (restart mode switches before the
 *              health check). If autopull dies here, the next job runs the gate again.
 * - live:      passed its health check and probation; `current` points at it.
 * - replaced:  was live, then another release went live. Known good: a rollback target.
 * - failed:    a build, start, health check or probation failed. Never goes live again.
 */
export const RELEASE_STATES = ['building', 'built', 'switching', 'live', 'replaced', 'failed'] as const;
export type ReleaseState = (typeof RELEASE_STATES)[number];

const MOVES: Record<ReleaseState, readonly ReleaseState[]> = {
  building: ['built', 'failed'],
  built: ['switching', 'failed'],
  // switching -> switching: the gate runs again for a release a stopped autopull left inside it.
  switching: ['switching', 'live', 'failed'],
  // live -> switching: the live release gated again (a restart of the app, a rollback's own).
  live: ['replaced', 'switching', 'failed'],
  // replaced -> live: a revert puts the previous release back; -> switching: a rollback to it.
  replaced: ['live', 'switching', 'failed'],
  failed: [],
};

export function canMove(from: ReleaseState, to: ReleaseState): boolean {
  return MOVES[from].includes(to);
}

/** Passed its health check (and probation): the only releases rollback picks and prune keeps. */
export function isKnownGood(state: string): boolean {
  return state === 'live' || state === 'replaced';
}

export function isReleaseState(s: string): s is ReleaseState {
  return (RELEASE_STATES as readonly string[]).includes(s);
}

export class ReleaseStateError extends Error {
  override name = 'ReleaseStateError';
  constructor(repo: string, id: string, from: string, to: string) {
    super(`release ${repo}/${id} cannot go from ${from} to ${to}`);
  }
}
