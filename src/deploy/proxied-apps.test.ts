import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { runtimePaths } from '../runtime/runtime.js';
import { ControlServer, type Handlers } from '../runtime/control.js';
import { PROTOCOL_VERSION } from '../runtime/protocol.js';
import { ProxiedApps } from './proxied-apps.js';

test('after detach (serve stopping), a job winding down starts no runtime', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, 'data_dir: ./data\nlisten: 127.0.0.1:0\nrepos:\n  site:\n    url: ./remote.git\n    insecure: true\n    deploy: { path: ./srv, start: node server.js, proxy: "127.0.0.1:0" }\n');
  const apps = new ProxiedApps(loadConfig(file), silentLogger());
  apps.detach();
  await assert.rejects(apps.instances('site'), /serve is stopping/);
  assert.equal(existsSync(runtimePaths(join(dir, 'data')).pid), false, 'a runtime was started');
});

test('a runtime left running by another autopull version serves on, and serve says how to move it to this version', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'autopull.yml');
  writeFileSync(file, 'data_dir: ./data\nlisten: 127.0.0.1:0\nrepos:\n  site:\n    url: ./remote.git\n    insecure: true\n    deploy: { path: ./srv, start: node server.js, proxy: "127.0.0.1:0" }\n');
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  // An old runtime on the socket: it answers status, and nothing else this test needs.
  const status = { version: '0.0.1-old', protocol: PROTOCOL_VERSION, pid: process.pid, started_at: '', proxies: [], instances: [] };
  const control = new ControlServer({ status: async () => status } as unknown as Handlers);
  await control.listen(runtimePaths(join(dir, 'data')).socket);
  t.after(() => control.close(runtimePaths(join(dir, 'data')).socket));
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  const apps = new ProxiedApps(loadConfig(file), logger);
  t.after(() => apps.detach());
  await apps.boot(() => ({}));
  assert.ok(
    lines.some((l) => /runs autopull 0\.0\.1-old, this serve .*autopull stop --all/.test(l)),
    lines.join(''),
  );
});
