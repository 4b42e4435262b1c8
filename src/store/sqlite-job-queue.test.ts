import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jobQueueContract } from '../../test/contracts/job-queue.contract.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { Db } from './db.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';
import { Store } from './store.js';

jobQueueContract('sqlite', async (t, clock, leaseMs) => {
  const file = join(tempDir(t), 'autopull.db');
  const store = new Store(file);
  t.after(() => store.close());
  const queue = new SqliteJobQueue(new Db(store.db), { leaseMs, now: () => clock.now() });
  return {
    queue,
    other() {
      // A second connection, as a second process has.
      const conn = new Database(file);
      conn.pragma('busy_timeout = 5000');
      t.after(() => conn.close());
      return new SqliteJobQueue(new Db(conn), { leaseMs, now: () => clock.now() });
    },
  };
});
