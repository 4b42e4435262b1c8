import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { processStartTime } from '../lib/proc.js';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { ensureRuntime, RuntimeClient } from './client.js';
import type { RuntimeEvent } from './protocol.js';
import { proxyConnectionCap, runtimePaths } from './runtime.js';
import { freePort } from './free-port.js';

type T = { after(fn: () => unknown): void };

/** A runtime process on a temp data_dir, shut down (over its socket) before the folder goes. */
async function runtime(t: T): Promise<{ c: RuntimeClient; dataDir: string }> {
  let c: RuntimeClient | null = null;
  t.after(async () => {
    if (!c || c.closed) return;
    const gone = new Promise<void>((resolve) => c!.once('close', () => resolve()));
    await c.request('shutdown', {}).catch(() => undefined);
    await gone;
  });
  const dataDir = tempDir(t);
  c = await ensureRuntime(dataDir);
  return { c, dataDir };
}

function nextEvent(c: RuntimeClient, want: (e: RuntimeEvent) => boolean): Promise<RuntimeEvent> {
  return new Promise((resolve) => {
    const on = (e: RuntimeEvent) => {
      if (!want(e)) return;
      c.off('event', on);
      resolve(e);
    };
    c.on('event', on);
  });
}

test('runtime: a record of the app processes that cannot be written is logged, and the runtime serves on', async (t) => {
  const { c, dataDir } = await runtime(t);
  const inst = await c.request('instance.start', { repo: 'r', release: 'a', cwd: dataDir, command: 'sleep 30', env: {}, logFile: join(dataDir, 'app.log'), minUptimeMs: 0, maxRestarts: 0 });
  // As a full disk would: the record's rename fails.
  const record = runtimePaths(dataDir).processes;
  rmSync(record, { force: true });
  mkdirSync(join(record, 'blocker'), { recursive: true });
  const retired = nextEvent(c, (e) => e.event === 'retired' && e.id === inst.id);
  await c.request('retire', { id: inst.id, stopTimeoutMs: 1000 });
  await retired;
  const status = await c.request('status', {});
  assert.deepEqual(status.instances, []);
  rmSync(record, { recursive: true, force: true });
});

test('runtime: one started while another runtime is starting (the start lock is held) waits for it, then starts', async (t) => {
  let c: RuntimeClient | null = null;
  t.after(async () => {
    if (!c) return;
    const gone = new Promise<void>((resolve) => c!.once('close', () => resolve()));
    await c.request('shutdown', {}).catch(() => undefined);
    await gone;
  });
  const dataDir = tempDir(t);
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  await once(holder, 'spawn');
  writeFileSync(runtimePaths(dataDir).lock, JSON.stringify({ pid: holder.pid, start: processStartTime(holder.pid!) }));
  const watcher = watch(dataDir);
  t.after(() => watcher.close());
  // The runtime's own copy of the lock, made before it tries to take it: it has come that far.
  const waiting = new Promise<string>((resolve) => watcher.on('change', (_e, name) => /^runtime\.lock\.\d+$/.test(String(name)) && resolve('waiting')));
  const started = ensureRuntime(dataDir);
  assert.equal(await Promise.race([waiting, started.then(() => 'started while another held the start lock')]), 'waiting');
  holder.kill('SIGKILL');
  c = await started;
  assert.equal(typeof (await c.request('status', {})).pid, 'number');
});

test('runtime: a flood of connections to a proxy leaves the runtime descriptors to start apps (ulimit -n 256)', async (t) => {
  const dataDir = tempDir(t);
  const entry = fileURLToPath(new URL('./entry.ts', import.meta.url));
  const child = spawn('sh', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, '--import', 'tsx', entry, dataDir, '--ready-fd', '3'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const [said] = (await once(child.stdio[3]!, 'data')) as [Buffer];
  assert.match(said.toString(), /^ready/);
  const c = await RuntimeClient.connect(runtimePaths(dataDir).socket);
  t.after(async () => {
    const gone = once(child, 'exit');
    await c.request('shutdown', {}).catch(() => undefined);
    await gone;
  });
  const cap = proxyConnectionCap(256);
  const { listen } = await c.request('proxy.listen', { repo: 'r', host: '127.0.0.1', port: 0, trustProxy: false });
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  const flood = 300;
  let closed = 0;
  const enough = new Promise<void>((resolve) => {
    for (let i = 0; i < flood; i++) {
      const s = connect(port, '127.0.0.1');
      t.after(() => s.destroy());
      s.on('error', () => undefined);
      s.once('close', () => ++closed >= flood - cap && resolve());
    }
  });
  // Bounded: idle clients are closed at the header timeout (10 s) anyway, so wait less than that.
  await Promise.race([enough, delay(5000)]);
  assert.ok(closed >= flood - cap, `${flood - closed} connections held open, more than the cap of ${cap}`);
  const inst = await c.request('instance.start', { repo: 'r', release: 'a', cwd: dataDir, command: 'sleep 30', env: {}, logFile: join(dataDir, 'app.log'), minUptimeMs: 0, maxRestarts: 0 });
  assert.equal(typeof inst.pid, 'number');
});

test('runtime: trust_proxy changed for a proxy on the same port applies at once (no second listener that cannot bind)', async (t) => {
  const { c, dataDir } = await runtime(t);
  const app = createServer((req, res) => res.end(String(req.headers['x-forwarded-for'])));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => app.close(resolve)));
  const port = await freePort();
  await c.request('proxy.listen', { repo: 'r', host: '127.0.0.1', port, trustProxy: false });
  const inst = await c.request('instance.start', { repo: 'r', release: 'a', cwd: dataDir, command: 'sleep 30', env: {}, port: (app.address() as AddressInfo).port, logFile: join(dataDir, 'app.log'), minUptimeMs: 0, maxRestarts: 0 });
  await c.request('route', { repo: 'r', id: inst.id, drainMs: 0 });
  const ask = async () => (await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).text();
  assert.equal(await ask(), '127.0.0.1');
  // serve started again with trust_proxy on: it asks for the same address.
  const again = await c.request('proxy.listen', { repo: 'r', host: '127.0.0.1', port, trustProxy: true });
  assert.equal(again.listen, `127.0.0.1:${port}`);
  assert.equal(await ask(), '198.51.100.1, 127.0.0.1');
});
