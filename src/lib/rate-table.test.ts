import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateTable } from './rate-table.js';

test('10/1m: a burst of 10, then one every 6 s; the wait says when', () => {
  const t = new RateTable({ count: 10, periodMs: 60_000 });
  for (let i = 0; i < 10; i++) assert.equal(t.take('a', 1000), 0);
  assert.equal(t.take('a', 1000), 6000);
  assert.equal(t.wait('a', 1000), 6000);
  assert.equal(t.take('b', 1000), 0, 'another key has its own bucket');
  assert.equal(t.wait('a', 4000), 3000);
  assert.equal(t.take('a', 7000), 0, 'one back after 6 s');
  assert.equal(t.take('a', 7000), 6000);
  assert.equal(t.wait('a', 61_000 + 6000), 0, 'full again a period after the last');
});

test('charge counts what already happened, but an empty bucket never owes more than one interval', () => {
  const t = new RateTable({ count: 2, periodMs: 10_000 });
  for (let i = 0; i < 50; i++) t.charge('a', 0);
  assert.equal(t.wait('a', 0), 5000);
  assert.equal(t.wait('a', 5000), 0);
  assert.equal(t.wait('x', 0), 0, 'an unknown key waits for nothing');
});

test('the table never holds more than maxKeys: full buckets are swept, then the oldest keys go', () => {
  const t = new RateTable({ count: 1, periodMs: 60_000 }, 100);
  for (let i = 0; i < 1000; i++) t.charge(`k${i}`, 0);
  assert.ok(t.size <= 100, `${t.size} keys`);
  assert.ok(t.wait('k999', 0) > 0, 'the newest key is kept');
  assert.equal(t.wait('k0', 0), 0, 'the oldest was evicted');
  // Once their buckets are full again, a sweep (at most once per period) drops them all.
  t.charge('late', 120_000);
  assert.equal(t.size, 1);
});

test('a full table where only one key has expired still frees an eighth: new keys paced to expire one per insert do not sweep on every insert', () => {
  // 10/1m keeps a charged key 6 s; 80 keys 75 ms apart, then one more each 75 ms: each new
  // key finds exactly one expired. Freeing only that one made every insert walk the table.
  const t = new RateTable({ count: 10, periodMs: 60_000 }, 80);
  let now = 0;
  for (let i = 0; i < 80; i++, now += 75) t.charge(`k${i}`, now);
  assert.equal(t.size, 80);
  t.charge('new', now);
  assert.ok(t.size <= 71, `down to 7/8 and the new key, not ${t.size}`);
});
