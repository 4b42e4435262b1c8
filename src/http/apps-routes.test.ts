import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';

const TOKEN = 'apps-token-0123456789';

async function app(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
auth_token: ${TOKEN}
repos:
  site: { url: 'https://example.com/site.git', secret: s, deploy: { path: ./srv/site, start: node s.js, proxy: '127.0.0.1:3999' } }
  blog: { url: 'https://example.com/blog.git', secret: s, deploy: { path: ./srv/blog, start: node s.js, port: 3998 } }
  docs: { url: 'https://example.com/docs.git', secret: s, deploy: { path: ./srv/docs, restart: 'true' } }
`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const kicked: string[] = [];
  const a = await buildApp({ config, store, logger: silentLogger(), kick: (r) => kicked.push(r), apiTokens: [] });
  t.after(async () => {
    await a.close();
    store.close();
  });
  const call = async (method: 'GET' | 'POST', url: string, payload?: string) => {
    const res = await a.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, payload });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  return { dir, call, store, kicked };
}

test('GET /api/apps lists every supervised app of both kinds, read from the data_dir without starting a runtime', async (t) => {
  const { dir, call } = await app(t);
  const res = await call('GET', '/api/apps');
  assert.equal(res.status, 200);
  const apps = res.body.apps as { repo: string; mode: string; state: string; note: string | null; source: string }[];
  assert.deepEqual(apps.map((a) => [a.repo, a.mode, a.state, a.source]), [['site', 'proxy', 'stopped', 'runtime'], ['blog', 'port', 'stopped', 'pid_file']]);
  assert.match(apps[0]?.note ?? '', /runtime is not running/);
  assert.equal(existsSync(join(dir, 'data', 'runtime.sock')), false, 'asking started a runtime');
  const one = await call('GET', '/api/apps/blog');
  assert.equal((one.body.app as { repo: string }).repo, 'blog');
  const repo = await call('GET', '/api/repos/blog');
  assert.equal(((repo.body.repo as { app: { mode: string } }).app).mode, 'port');
  const docs = await call('GET', '/api/repos/docs');
  assert.equal((docs.body.repo as { app: unknown }).app, null, 'a repo without deploy.start has no app');
});

test('/api/apps and restart: an unknown repo is a 404, a repo without deploy.start a clear 404/400', async (t) => {
  const { call } = await app(t);
  const unknown = await call('GET', '/api/apps/nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'unknown_repo');
  const plain = await call('GET', '/api/apps/docs');
  assert.equal(plain.status, 404);
  assert.match(String(plain.body.message), /docs has no supervised app: its deploy: section has no start:.*autopull deploy docs --force/);
  assert.equal((await call('POST', '/api/repos/nope/restart')).status, 404);
  const noStart = await call('POST', '/api/repos/docs/restart');
  assert.equal(noStart.status, 400);
  assert.match(String(noStart.body.message), /no supervised app/);
  const extra = await call('POST', '/api/repos/site/restart', '{"force": true}');
  assert.equal(extra.status, 400);
  assert.match(String(extra.body.message), /force/);
});

test('POST /api/repos/:repo/restart queues one restart job (a second merges into it) and wakes the worker', async (t) => {
  const { call, store, kicked } = await app(t);
  const first = await call('POST', '/api/repos/site/restart');
  assert.equal(first.status, 202);
  const [id] = first.body.jobs as number[];
  const second = await call('POST', '/api/repos/site/restart', '{}');
  assert.deepEqual(second.body.jobs, [id]);
  assert.match(String(second.body.message), /merged into queued restart job/);
  const job = store.getJob(id!);
  assert.deepEqual([job?.kind, job?.state, job?.trigger], ['restart', 'queued', 'manual']);
  await new Promise((r) => setImmediate(r));
  assert.ok(kicked.includes('site'));
});
