import type Database from 'better-sqlite3';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-release-states.js';
import * as m003 from './migrations/003-one-job-relation.js';
import * as m004 from './migrations/004-job-leases.js';
import * as m005 from './migrations/005-notify-state.js';
import * as m006 from './migrations/006-delivery-classes.js';

/**
 * Numbered migrations, each run once, in order, inside one transaction with the version bump:
 * the database's `PRAGMA user_version` is the number of the last one applied. A crash in the
 * middle of one leaves the version (and the tables) as they were, and the next start redoes it.
 * A new migration is a new file and one line here; a released one is never edited.
 */
const MIGRATIONS: readonly { version: number; name: string; up(db: Database.Database): void }[] = [
  { version: 1, name: 'initial (0.1.0)', up: m001.up },
  { version: 2, name: 'release states, job failure codes', up: m002.up },
  { version: 3, name: 'job/delivery relation stored once', up: m003.up },
  { version: 4, name: 'job leases', up: m004.up },
  { version: 5, name: 'notification state', up: m005.up },
  { version: 6, name: 'delivery class indexes for retention', up: m006.up },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class NewerDatabaseError extends Error {
  override name = 'NewerDatabaseError';
}

/** Brings the database to SCHEMA_VERSION; refuses one written by a newer autopull. */
export function migrate(db: Database.Database): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new NewerDatabaseError(`${db.name} has schema version ${current}, newer than this autopull knows (${SCHEMA_VERSION}): upgrade autopull, or use another data_dir`);
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
