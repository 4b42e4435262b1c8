import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { ControlServer, MAX_UNREAD, type Handlers } from './control.js';
import { lineReader, MAX_LINE } from './protocol.js';

/** Handlers that answer `status` (the only op the tests send). */
function handlers(): Handlers {
  const status = { version: 'test', protocol: 1, pid: process.pid, started_at: '', proxies: [], instances: [] };
  return { status: async () => status } as unknown as Handlers;
}

async function server(t: { after(fn: () => unknown): void }, h: Handlers): Promise<{ control: ControlServer; path: string }> {
  const path = join(tempDir(t), 'runtime.sock');
  const control = new ControlServer(h);
  await control.listen(path);
  return { control, path };
}

async function client(path: string, o: { allowHalfOpen?: boolean } = {}): Promise<Socket> {
  const s = connect({ path, allowHalfOpen: o.allowHalfOpen ?? false });
  await once(s, 'connect');
  return s;
}

test('lineReader: a character split across chunks arrives whole; a line sent a byte at a time arrives once', () => {
  const lines: string[] = [];
  const read = lineReader((l) => lines.push(l), () => assert.fail('no overflow'));
  const bytes = Buffer.from('{"repo":"café ☕"}\n');
  for (let i = 0; i < bytes.length; i++) read(bytes.subarray(i, i + 1));
  assert.deepEqual(lines, ['{"repo":"café ☕"}']);
});

test('lineReader: past MAX_LINE it overflows once and reads nothing more, even a line in the same chunk', () => {
  const lines: string[] = [];
  let overflows = 0;
  const read = lineReader((l) => lines.push(l), () => overflows++);
  read(Buffer.from(`${'x'.repeat(MAX_LINE + 1)}\n{"id":1,"op":"shutdown"}\n`));
  read(Buffer.from('{"id":2,"op":"shutdown"}\n'));
  assert.equal(overflows, 1);
  assert.deepEqual(lines, []);
});

test('close() ends even when a client neither reads nor closes its side', async (t) => {
  const { control, path } = await server(t, handlers());
  const stuck = await client(path, { allowHalfOpen: true });
  stuck.pause();
  t.after(() => stuck.destroy());
  // Resolving is the assertion: before, close() waited for that client forever.
  await control.close(path);
});

test('a client that floods requests and never reads the answers is cut once MAX_UNREAD is held for it', async (t) => {
  const requests = Math.ceil(MAX_UNREAD / (1024 * 1024)) * 4;
  let calls = 0;
  let allCalled: () => void = () => undefined;
  const called = new Promise<void>((resolve) => (allCalled = resolve));
  const big = { version: 'x'.repeat(1024 * 1024), protocol: 1, pid: process.pid, started_at: '', proxies: [], instances: [] };
  const h = {
    status: async () => {
      if (++calls === requests) allCalled();
      return big;
    },
  } as unknown as Handlers;
  const { control, path } = await server(t, h);
  t.after(() => control.close(path));
  const flood = await client(path);
  flood.pause();
  for (let id = 1; id <= requests; id++) flood.write(`${JSON.stringify({ id, op: 'status', args: {} })}\n`);
  await called;
  await new Promise((resolve) => setImmediate(resolve)); // the last answers are written
  let answers = 0;
  let text = '';
  const outcome = new Promise<string>((resolve) => {
    flood.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        text = text.slice(nl + 1);
        if (++answers === requests) resolve('every answer was held for a client that did not read');
      }
    });
    flood.on('error', () => undefined);
    flood.once('close', () => resolve('cut'));
  });
  flood.resume();
  assert.equal(await outcome, 'cut');
  assert.ok(answers < requests);
  // Others are still answered.
  const other = await client(path);
  t.after(() => other.destroy());
  other.write('{"id":7,"op":"status","args":{}}\n');
  const [chunk] = (await once(other, 'data')) as [Buffer];
  assert.match(chunk.toString(), /^\{"id":7,"ok":true/);
});
