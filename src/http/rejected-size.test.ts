import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { startServer } from '../daemon/start.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';

const SECRET = 'flood-secret-0123456789';

/** A server with one repo (blog) whose secret the flood does not know. */
async function server(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  // Rate limits off: the flood is about what each refused delivery stores (limits.rate: hook-rate.test.ts).
  writeFileSync(file, `listen: 127.0.0.1:0\ndata_dir: ./data\nlimits: { rate: off }\nrepos:\n  blog: { url: 'https://github.com/acme/blog.git', secret: ${SECRET}, deploy: { path: ./srv } }\n`);
  const s = await startServer(loadConfig(file), silentLogger());
  t.after(() => s.close());
  return s;
}

/** A 60 KB GitHub-looking push with a wrong signature, ~10 KB of extra headers and a 2 KB delivery id. */
function floodRequest(i: number): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': `${i}-${'d'.repeat(2000)}`,
    'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
  };
  for (let h = 0; h < 60; h++) headers[`x-filler-${h}`] = 'y'.repeat(150);
  return { headers, body: JSON.stringify({ ref: 'refs/heads/main', filler: 'x'.repeat(60 * 1024) }) };
}

async function flood(url: string, n: number, expected: number): Promise<void> {
  for (let start = 0; start < n; start += 20) {
    const batch = Array.from({ length: Math.min(20, n - start) }, async (_, k) => {
      const { headers, body } = floodRequest(start + k);
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, expected, await res.text());
    });
    await Promise.all(batch);
  }
}

/** Bytes each row takes in the ledger: the body, the headers and every text field a sender controls. */
const ROW_BYTES = `length(body) + length(CAST(headers AS BLOB)) + length(CAST(delivery_id AS BLOB)) + length(CAST(COALESCE(event, '') AS BLOB))
  + length(CAST(COALESCE(repo, '') AS BLOB)) + length(CAST(message AS BLOB))`;

test('200 unauthenticated 60 KB deliveries to a known repo store at most ~9 KiB each; unknown repos and /hooks store no body', async (t) => {
  const s = await server(t);
  await flood(`${s.url}/hooks/blog`, 200, 403);
  await flood(`${s.url}/hooks/nope`, 20, 404);
  // No repo's secret verifies these: refused before any repo is chosen.
  await flood(`${s.url}/hooks`, 20, 403);

  const known = s.store.db
    .prepare(`SELECT count(*) AS n, max(length(body)) AS body, sum(${ROW_BYTES}) AS total, max(${ROW_BYTES}) AS row, min(body_truncated) AS truncated FROM deliveries WHERE status_code = 403 AND repo = 'blog'`)
    .get() as { n: number; body: number; total: number; row: number; truncated: number };
  assert.equal(known.n, 200);
  assert.ok(known.body > 0 && known.body <= 4096, `a rejected body keeps at most 4 KiB, got ${known.body}`);
  assert.equal(known.truncated, 1, 'every cut row says so');
  assert.ok(known.row <= 9 * 1024, `a rejected row takes at most 9 KiB, got ${known.row}`);
  assert.ok(known.total <= 200 * 9 * 1024, `200 rejected rows take ${known.total} bytes`);

  const stranger = s.store.db
    .prepare(`SELECT count(*) AS n, max(length(body)) AS body, max(${ROW_BYTES}) AS row FROM deliveries WHERE NOT (status_code = 403 AND COALESCE(repo, '') = 'blog')`)
    .get() as { n: number; body: number; row: number };
  assert.equal(stranger.n, 40);
  assert.equal(stranger.body, 0, 'no repo could check these: no body is kept');
  assert.ok(stranger.row <= 5 * 1024, `a row no repo could check takes at most 5 KiB, got ${stranger.row}`);
  const sample = s.store.listDeliveries({ limit: 1 })[0];
  assert.equal(sample?.body_truncated, true);
  assert.ok(Object.keys(sample?.headers ?? {}).length <= 50, 'at most 50 headers are kept');
});
