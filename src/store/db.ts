import type Database from 'better-sqlite3';

/**
 * One SQLite connection and the statements prepared on it. Every table module takes a `Db`:
 * a statement is prepared once per SQL text and kept for the life of the connection.
 */
export class Db {
  constructor(readonly raw: Database.Database) {}

  sql(text: string): Database.Statement {
    return prepared(this.raw, text);
  }

  /**
   * Runs `fn` in a transaction that takes the write lock first (BEGIN IMMEDIATE), waiting for
   * it (busy_timeout): another connection writes the same file (the ledger's writer thread,
   * later-writer.ts, or a CLI), and a deferred transaction whose read that one's commit
   * overtakes cannot write after it (SQLITE_BUSY at once, not a wait). `immediate: false`
   * only for one that never writes.
   */
  tx<T>(fn: () => T, immediate = true): T {
    const t = this.raw.transaction(fn);
    return immediate ? t.immediate() : t();
  }

  /**
   * A transaction whose commit is on disk before it returns (synchronous = FULL for it):
   * for what a sender or a user was told about. Inside an outer transaction, that one's
   * commit decides. See store.ts for what NORMAL may lose.
   */
  durable<T>(fn: () => T, immediate = true): T {
    if (this.raw.inTransaction) return fn();
    // Prepared once (db.pragma() prepares its statement on every call: ~1.5 ms each under load, twice per job claim).
    this.sql('PRAGMA synchronous = FULL').run();
    try {
      return this.tx(fn, immediate);
    } finally {
      this.sql('PRAGMA synchronous = NORMAL').run();
    }
  }
}

export type Row = Record<string, unknown>;

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The statement for `text` on this connection, prepared on first use and kept with it. */
export function prepared(db: Database.Database, text: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let stmt = statements.get(text);
  if (!stmt) {
    stmt = db.prepare(text);
    statements.set(text, stmt);
  }
  return stmt;
}
