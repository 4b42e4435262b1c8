import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { waitUntil } from '../../test/helpers/app.js';
import { HOOK_SECRET, listenApp, requestText } from '../../test/helpers/raw-http.js';

// A sender that resets the connection right after a complete, validly signed delivery
// (issue #8, fault 7): the delivery is still recorded and its job queued; no internal error.

/** Writes `text` and resets the connection (RST) once the bytes are handed to the kernel. */
function sendAndReset(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('close', () => resolve());
    socket.write(text, () => socket.resetAndDestroy());
  });
}

test('200 signed deliveries whose senders reset right after sending are all recorded and queued', async (t) => {
  const s = await listenApp(t, 'limits: { rate: off }'); // 200 pushes to one repo at once: past limits.rate.per_repo
  const ids: string[] = [];
  // In batches below the per-address connection cap: this test is about resets, not floods.
  for (let batch = 0; batch < 8; batch++) {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 25; i++) {
      const d = githubDelivery('push', githubPush({ after: (ids.length + 1).toString(16).padStart(40, '0'), cloneUrl: 'https://github.com/acme/blog.git' }), HOOK_SECRET);
      ids.push(d.headers['x-github-delivery'] as string);
      sends.push(sendAndReset(s.port, requestText('POST', '/hooks/blog', d.headers, d.body)));
    }
    await Promise.all(sends);
    await waitUntil(`${ids.length} deliveries in the ledger`, () => s.store.listDeliveries({ limit: 1000 }).length >= ids.length || s.logs.some((l) => (l.level as number) >= 50), 10_000);
  }
  const errors = s.logs.filter((l) => (l.level as number) >= 50);
  assert.deepEqual(errors, []);
  const rows = s.store.listDeliveries({ limit: 1000 });
  assert.deepEqual(new Set(rows.map((r) => r.delivery_id)), new Set(ids));
  for (const r of rows) {
    assert.equal(r.status_code, 202, `${r.delivery_id}: ${r.message}`);
    // A peer that reset before its connection was accepted has no address left to read.
    assert.ok(['127.0.0.1', 'unknown'].includes(r.remote_addr), r.remote_addr);
  }
  // Coalesced into the one queued job for blog (one job at a time per repo), kicked once per delivery.
  assert.equal(s.store.listJobs({ repo: 'blog', states: ['queued'] }).length, 1);
  assert.equal(s.kicked.length, 200);
});
