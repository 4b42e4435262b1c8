import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, runFuzz } from '../../fuzz/fuzz.js';

// The fuzz suite (npm run fuzz sends 100,000) with a CI-sized count: generated deliveries
// across every sender, valid and spoiled, against the built server on 127.0.0.1. A new seed
// each run; a failure prints the seed and the delivery that reproduce it.
test('2,000 fuzzed deliveries: no 5xx, no crash, no job without valid auth, memory flat', async () => {
  const seed = Number(process.env.AUTOPULL_FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
  const summary = await runFuzz({ count: 2000, seed, concurrency: 8, timeLimitMs: 80_000, rssSlackKiB: 64 * 1024 });
  console.log(formatSummary(summary));
  assert.deepEqual(summary.failures, [], formatSummary(summary));
  assert.ok(summary.sent >= 200, `only ${summary.sent} deliveries were sent`);
  // The generator really produced both sides: deliveries that deploy (or were rate limited) and ones refused for their credential.
  assert.ok((summary.statuses['202'] ?? 0) + (summary.statuses['429'] ?? 0) > 0, JSON.stringify(summary.statuses));
  assert.ok((summary.statuses['401'] ?? 0) + (summary.statuses['403'] ?? 0) > 0, JSON.stringify(summary.statuses));
  assert.equal(summary.nonJson, 0);
});
