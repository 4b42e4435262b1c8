import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { loadConfig } from '../config/load.js';
import { startServer } from '../daemon/start.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('POST /hooks/NAME for a repo not configured is answered 404 before its body is read, and recorded without it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, `listen: 127.0.0.1:0\ndata_dir: ./data\nrepos:\n  blog: { url: 'https://github.com/acme/blog.git', secret: s3cret-s3cret, deploy: { path: ./srv } }\n`);
  const s = await startServer(loadConfig(file), silentLogger());
  t.after(() => s.close());
  const { port } = new URL(s.url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  // A body declared far over body_limit, of which only 100 bytes are ever sent: the answer
  // cannot wait for the rest (nor be 413), since the body is not needed to refuse.
  socket.write(`POST /hooks/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: early-1\r\nContent-Length: 50000000\r\n\r\n${'{'.repeat(100)}`);
  let text = '';
  socket.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (c: string) => {
      text += c;
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) resolve();
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error(`no complete answer within 10 s: ${JSON.stringify(text)}`)), 10_000).unref();
  });
  socket.destroy();
  assert.match(text, /^HTTP\/1\.1 404 /);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
  assert.equal(body.error, 'unknown_repo');
  assert.match(body.message, /no repo named "nope"/);
  await turn();
  const rows = s.store.listDeliveries({ limit: 5 });
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.equal(row.status_code, 404);
  assert.equal(row.outcome, 'unknown_repo');
  assert.equal(row.repo, 'nope');
  assert.equal(row.body.length, 0);
  assert.equal(row.body_truncated, true, 'the row says its body was not kept');
  assert.equal(row.headers['x-github-delivery'], 'early-1');
});
