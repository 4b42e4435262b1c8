import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import type { InstanceInfo, RuntimeStatus } from '../runtime/protocol.js';
import { portAppStatus, proxiedAppStatus, shownState } from './app-status.js';

const config = parseConfigText(
  `data_dir: /tmp/autopull-app-status
repos:
  site: { url: 'https://example.com/site.git', secret: s, deploy: { path: /srv/site, start: node s.js, proxy: '127.0.0.1:3000', min_uptime: 5s } }
  blog: { url: 'https://example.com/blog.git', secret: s, deploy: { path: /srv/blog, start: node s.js, port: 3001, min_uptime: 5s } }
`,
  '/tmp/autopull.yml',
  {},
);
const site = config.repos.get('site' as never)!;
const blog = config.repos.get('blog' as never)!;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function inst(o: Partial<InstanceInfo>): InstanceInfo {
  return { id: 'site/r1/1', repo: 'site', release: 'r1', pid: 100, port: 40000, state: 'running', started_at: ago(600), spawned_at: ago(600), restarts: 0, routed: true, open: { requests: 0, sockets: 0 }, ...o };
}

function runtime(instances: InstanceInfo[], target: string | null): RuntimeStatus {
  return { version: 'x', protocol: 1, pid: 1, started_at: ago(900), proxies: [{ repo: 'site', listen: '127.0.0.1:3000', target }], instances };
}

test('behind the proxy: the routed instance is the app, a draining one is listed with what it has open', () => {
  const live = inst({ id: 'site/r2/2', release: 'r2', pid: 200, port: 40002, spawned_at: ago(60), started_at: ago(60), restarts: 1 });
  const old = inst({ state: 'draining', routed: false, open: { requests: 3, sockets: 1 } });
  const a = proxiedAppStatus(site, runtime([old, live], live.id), 'runtime', null, NOW);
  assert.equal(a.state, 'running');
  assert.deepEqual([a.release, a.pid, a.port, a.restarts, a.uptime_seconds, a.listen], ['r2', 200, 40002, 1, 60, '127.0.0.1:3000']);
  assert.deepEqual(a.instances.map((i) => [i.id, i.state, i.live, i.routed]), [['site/r2/2', 'running', true, true], ['site/r1/1', 'draining', false, false]]);
  assert.deepEqual(a.instances[1]?.open, { requests: 3, sockets: 1 });
});

test('a crashed app is shown crashed and never live, though the proxy still targets it', () => {
  const dead = inst({ state: 'crashed', pid: null, restarts: 5 });
  const a = proxiedAppStatus(site, runtime([dead], dead.id), 'runtime', null, NOW);
  assert.equal(a.state, 'crashed');
  assert.equal(a.instances[0]?.live, false);
  assert.equal(a.instances[0]?.routed, true);
  assert.equal(a.uptime_seconds, null);
  const b = portAppStatus(blog, { state: 'crashed', release: 'r1', pid: null, port: 3001, spawnedAtMs: null, restarts: 5 }, 'server', null, NOW);
  assert.equal(b.state, 'crashed');
  assert.equal(b.instances[0]?.live, false);
});

test('an app up for less than min_uptime is starting; no runtime gives stopped with a note', () => {
  assert.equal(shownState('running', NOW - 1000, 5000, NOW), 'starting');
  assert.equal(shownState('running', NOW - 6000, 5000, NOW), 'running');
  assert.equal(shownState('backoff', NOW - 1000, 5000, NOW), 'backoff');
  const fresh = portAppStatus(blog, { state: 'running', release: 'r1', pid: 5, port: 3001, spawnedAtMs: NOW - 2000, restarts: 0 }, 'server', null, NOW);
  assert.deepEqual([fresh.state, fresh.uptime_seconds, fresh.instances[0]?.live], ['starting', 2, true]);
  const none = proxiedAppStatus(site, null, 'runtime', null, NOW);
  assert.deepEqual([none.state, none.instances.length], ['stopped', 0]);
  assert.match(none.note ?? '', /runtime is not running/);
  // A runtime of an older autopull gives no spawned_at: started_at stands in.
  const older = inst({ spawned_at: undefined, started_at: ago(2) });
  assert.equal(proxiedAppStatus(site, runtime([older], older.id), 'runtime', null, NOW).state, 'starting');
});
