import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from '../helpers/cli.js';

test('autopull systemd prints a hardened unit that systemd accepts: KillMode=process, the paths autopull writes, a stop timeout past shutdown_grace', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'autopull.yml');
  writeFileSync(
    config,
    `listen: 127.0.0.1:8686
data_dir: ./data
shutdown_grace: 2m
repos:
  site:
    url: https://example.com/site.git
    secret: \${SITE_SECRET}
    deploy: { path: /srv/site, start: node server.js, proxy: 0.0.0.0:80, stop_timeout: 20s }
  blog:
    url: https://example.com/blog.git
    secret: \${BLOG_SECRET}
    deploy: { path: ./blog, restart: sudo systemctl restart blog }
`,
  );
  // Printed without the secrets' variables: the unit needs paths and timings only.
  const res = await runCli(['systemd', '-c', config, '--user', 'deploy'], { env: { SITE_SECRET: '', BLOG_SECRET: '' } });
  assert.equal(res.code, 0, res.stderr);
  const unit = res.stdout;
  const lines = new Set(unit.split('\n'));
  for (const line of [
    'Type=exec',
    'User=deploy',
    'KillMode=process',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'PrivateTmp=yes',
    `ReadWritePaths=${join(dir, 'data')} /srv/site ${join(dir, 'blog')}`,
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'ExecReload=/bin/kill -HUP $MAINPID',
    `TimeoutStopSec=${120 + 20 + 30}`,
  ]) {
    assert.ok(lines.has(line), `missing "${line}" in:\n${unit}`);
  }
  assert.match(unit, /WARNING: blog run deploy\.restart with sudo/);

  const file = join(dir, 'autopull.service');
  writeFileSync(file, unit);
  const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  const about = verify.stderr.split('\n').filter((l) => l.includes(file));
  assert.deepEqual(about, [], 'systemd-analyze has nothing to say about the unit');
});
