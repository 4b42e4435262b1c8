import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers/tmp.js';
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { runtimePaths } from '../runtime/runtime.js';
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
