import type { ReleaseId } from '../../lib/ids.js';
import type { PendingCommand } from '../steps.js';

/** What goes live: a deploy's new release, or a rollback's target. */
export interface GoLive {
  release: ReleaseId;
  sha: string;
  ref: string;
  /** The release live before (null on a first deploy) and its commit: where a revert returns. */
  previous: ReleaseId | null;
  previousSha: string | null;
  /**
   * The release is `current` already: an earlier job switched to it and died before its checks
   * ended (resume.ts). A failure in any phase then reverts (switches back), never just disposes.
   */
  resumed?: boolean;
  /** The restart command's process, started while the release was checked out (restart gate: deploy.ts). */
  restart?: PendingCommand;
}

/**
 * One way of going live, as named phases. `passGate` (run.ts) calls them in order and alone
 * decides what to undo: `dispose` when a phase failed before `switch` finished, `revert` after.
 * Each phase throws a JobFailure whose code says what failed (start_failed, unhealthy, ...).
 *
 * - prepare: make the new release ready to serve without serving (start its app).
 * - verify:  check it before it gets traffic (health on its own port); a no-op for a gate
 *            that can only check after the switch (an external restart command).
 * - switch:  make it the one that serves (`current`, the restart command, the proxy's target).
 * - watch:   after the switch: wait healthy where verify could not, then probation.
 * - revert:  after a switch: serve the previous release again.
 * - dispose: before any switch: drop what prepare made; the previous release keeps serving.
 * - finish:  after watch passed: let go of what the previous release held (behind the proxy,
 *            its instance drains and stops). Optional.
 */
export interface Gate {
  prepare(): Promise<void>;
  verify(): Promise<void>;
  switch(): Promise<void>;
  watch(): Promise<void>;
  revert(): Promise<void>;
  dispose(): Promise<void>;
  finish?(): Promise<void>;
}
