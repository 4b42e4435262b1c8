import type Database from 'better-sqlite3';
import { nowIso } from '../lib/time.js';
import { prepared } from './db.js';

/**
 * The state of each notification track (a repo's deploys, its rollbacks, each mirror
 * target), one row per (repo, track): what the last job found, since when, and over how
 * many jobs in a row. Notifications are sent on a change of it, so it lives in the database:
 * a restart neither repeats a failure message nor forgets that a recovery is due.
 */
export type TrackState = 'ok' | 'failed';

export interface TrackRow {
  repo: string;
  track: string;
  state: TrackState;
  /** When the track entered this state (ISO time). */
  since: string;
  /** Jobs in a row that found this state. */
  jobs: number;
  last_job: number;
  updated_at: string;
}

export type TrackChange =
  /** The job was recorded; `previous` is the row before it (null for a track's first job). */
  | { recorded: true; previous: TrackRow | null; current: TrackRow }
  /** This job, or a later one, is already recorded (an event seen twice, a stale job). */
  | { recorded: false };

/** Records that job `job` found `state` on (repo, track), in one transaction. */
export function recordTrack(db: Database.Database, repo: string, track: string, state: TrackState, job: number): TrackChange {
  return db.transaction((): TrackChange => {
    const previous = getTrack(db, repo, track);
    if (previous && previous.last_job >= job) return { recorded: false };
    const now = nowIso();
    const same = previous?.state === state;
    prepared(
      db,
      `INSERT INTO notify_state (repo, track, state, since, jobs, last_job, updated_at) VALUES (@repo, @track, @state, @since, @jobs, @job, @now)
       ON CONFLICT (repo, track) DO UPDATE SET state = excluded.state, since = excluded.since, jobs = excluded.jobs, last_job = excluded.last_job, updated_at = excluded.updated_at`,
    ).run({ repo, track, state, since: same ? previous.since : now, jobs: same ? previous.jobs + 1 : 1, job, now });
    return { recorded: true, previous, current: getTrack(db, repo, track) as TrackRow };
  }).immediate();
}

export function getTrack(db: Database.Database, repo: string, track: string): TrackRow | null {
  return (prepared(db, `SELECT * FROM notify_state WHERE repo = ? AND track = ?`).get(repo, track) as TrackRow | undefined) ?? null;
}
