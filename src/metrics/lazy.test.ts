import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LazyRegistry } from './lazy.js';
import { parseMetrics, sample } from '../../test/helpers/metrics.js';

// node --test runs each test file in a process of its own: prom-client is loaded only here.
const promLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => /[\\/]prom-client[\\/]/.test(f));

test('prom-client loads once something is counted, after the code that counted it; every count and GC before is in the registry', async (t) => {
  const lazy = new LazyRegistry();
  t.after(() => lazy.close());
  const hits = lazy.counter({ name: 'lazy_hits_total', help: 'hits', labelNames: ['kind'] });
  const took = lazy.histogram({ name: 'lazy_seconds', help: 'took', labelNames: ['kind'], buckets: [1, 10] });
  // Garbage enough for young-generation collections while nothing is loaded.
  let keep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i });
  keep = [];
  await nextTurn();
  assert.equal(promLoaded(), false, 'declared metrics and GCs load nothing');

  hits.inc({ kind: 'a' });
  hits.inc({ kind: 'a' }, 2);
  took.observe({ kind: 'a' }, 5);
  assert.equal(promLoaded(), false, 'not inside the code that counts');
  await nextTurn();
  assert.equal(promLoaded(), true, 'loaded right after');

  hits.inc({ kind: 'b' });
  const s = parseMetrics(await lazy.registry().metrics());
  assert.equal(sample(s, 'lazy_hits_total', { kind: 'a' }), 3);
  assert.equal(sample(s, 'lazy_hits_total', { kind: 'b' }), 1);
  assert.equal(sample(s, 'lazy_seconds_bucket', { kind: 'a', le: '1' }), 0);
  assert.equal(sample(s, 'lazy_seconds_bucket', { kind: 'a', le: '10' }), 1);
  assert.equal(sample(s, 'lazy_seconds_sum', { kind: 'a' }), 5);
  assert.ok((sample(s, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }) ?? 0) >= 1, 'the GCs before the load are counted');
  assert.equal(keep.length, 0);
});

test('a first scrape that loads the registry shows the event loop delay measured, not an empty monitor', async (t) => {
  const lazy = new LazyRegistry();
  t.after(() => lazy.close());
  const s = parseMetrics(await lazy.metrics());
  const min = sample(s, 'nodejs_eventloop_lag_min_seconds') as number;
  assert.ok(min >= 0 && min < 1, `min ${min} s`);
  assert.ok(Number.isFinite(sample(s, 'nodejs_eventloop_lag_mean_seconds')));
});

test('a scrape just after a count made the registry shows the event loop delay measured too', async (t) => {
  const lazy = new LazyRegistry();
  t.after(() => lazy.close());
  lazy.counter({ name: 'x_total', help: 'x' }).inc({});
  lazy.registry();
  const s = parseMetrics(await lazy.metrics());
  const min = sample(s, 'nodejs_eventloop_lag_min_seconds') as number;
  assert.ok(min >= 0 && min < 1, `min ${min} s`);
  assert.ok(Number.isFinite(sample(s, 'nodejs_eventloop_lag_mean_seconds')));
});
