import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Db } from './db.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('durable commits with synchronous = FULL and leaves the connection at NORMAL, also when its work throws', (t) => {
  const raw = new Database(join(tempDir(t), 'a.db'));
  t.after(() => raw.close());
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const db = new Db(raw);
  const level = () => raw.pragma('synchronous', { simple: true });
  assert.equal(db.durable(() => level()), 2, 'FULL inside');
  assert.equal(level(), 1, 'NORMAL after');
  assert.throws(() => db.durable(() => { throw new Error('no'); }), /no/);
  assert.equal(level(), 1, 'NORMAL after a throw');
  db.tx(() => assert.equal(db.durable(() => level()), 1, "inside an outer transaction, the outer one's commit decides"));
});
