import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { replaceSymlink } from '../lib/atomic-fs.js';
import { tempDir } from '../../test/helpers/tmp.js';

const TOKEN = 'history-token-0123456789';

/** The real app listening on 127.0.0.1 over a real store; requests go through fetch. */
async function server(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
auth_token: ${TOKEN}
repos:
  blog: { url: 'https://github.com/acme/blog.git', secret: s3cret-blog, deploy: { path: ./srv } }
  docs: { url: 'https://github.com/acme/docs.git', secret: s3cret-docs, mirror: [{ url: 'https://example.com/m.git' }] }
`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    store.close();
  });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const call = async (method: string, path: string, token: string | null = TOKEN) => {
    const res = await fetch(`${url}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { dir, store, call };
}

test('GET /api/jobs filters by repo, state (one or several) and limit, newest first', async (t) => {
  const { store, call } = await server(t);
  const a = store.enqueue({ repo: 'blog', ref: 'main', hintSha: null, trigger: 'manual' }).id;
  store.finishJob(a, 'failed', 'build failed', 'build_failed');
  const b = store.enqueue({ repo: 'blog', ref: 'main', hintSha: null, trigger: 'manual' }).id;
  store.finishJob(b, 'succeeded', 'live');
  const c = store.enqueue({ repo: 'docs', kind: 'mirror', ref: null, hintSha: null, trigger: 'manual' }).id;

  const ids = (body: Record<string, unknown>) => (body.jobs as { id: number }[]).map((j) => j.id);
  assert.deepEqual(ids((await call('GET', '/api/jobs')).body), [c, b, a]);
  assert.deepEqual(ids((await call('GET', '/api/jobs?repo=blog')).body), [b, a]);
  assert.deepEqual(ids((await call('GET', '/api/jobs?state=failed')).body), [a]);
  assert.deepEqual(ids((await call('GET', '/api/jobs?state=queued,failed')).body), [c, a]);
  assert.deepEqual(ids((await call('GET', '/api/jobs?repo=blog&limit=1')).body), [b]);
  const failed = (await call('GET', '/api/jobs?state=failed')).body.jobs as { failure: string; reason: string }[];
  assert.equal(failed[0]?.failure, 'build_failed');
});

test('GET /api/jobs: a bad parameter is a 400 naming it and its value; an unknown repo a 404; no token a 401', async (t) => {
  const { call } = await server(t);
  const cases: [string, RegExp][] = [
    ['/api/jobs?state=done', /state: "done" is not a job state \(one of queued, running, succeeded/],
    ['/api/jobs?state=failed,', /state: "" is not a job state/],
    ['/api/jobs?limit=0', /limit: must be a whole number from 1 to 1000, not "0"/],
    ['/api/jobs?limit=1001', /limit: must be a whole number from 1 to 1000, not "1001"/],
    ['/api/jobs?limit=ten', /limit: .*not "ten"/],
    ['/api/jobs?limit=1&limit=2', /limit: /],
    ['/api/jobs?colour=red', /colour/],
    ['/api/jobs?repo=', /repo: must not be empty/],
  ];
  for (const [path, re] of cases) {
    const res = await call('GET', path);
    assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'bad_request');
    assert.match(String(res.body.message), re, path);
  }
  const unknown = await call('GET', '/api/jobs?repo=nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'unknown_repo');
  assert.match(String(unknown.body.message), /no repo named "nope" is configured \(known: blog, docs\)/);
  assert.equal((await call('GET', '/api/jobs', null)).status, 401);
  assert.equal((await call('GET', '/api/jobs?state=bogus', 'wrong-token')).status, 403, 'the token is checked before the query');
});

test('GET /api/repos/:repo/releases: each release with its state, which is current and known good, and the bad commits', async (t) => {
  const { dir, store, call } = await server(t);
  const ids = ['20260101T000000-aaaaaaa', '20260102T000000-bbbbbbb', '20260103T000000-ccccccc'];
  store.putRelease({ repo: 'blog', id: ids[0] as string, sha: 'a'.repeat(40), job_id: 1, state: 'replaced' });
  store.putRelease({ repo: 'blog', id: ids[1] as string, sha: 'b'.repeat(40), job_id: 2, state: 'live' });
  store.putRelease({ repo: 'blog', id: ids[2] as string, sha: 'c'.repeat(40), job_id: 3, state: 'failed' });
  mkdirSync(join(dir, 'srv', 'releases', ids[1] as string), { recursive: true });
  replaceSymlink(join(dir, 'srv', 'current'), `releases/${ids[1]}`);
  store.markBad('blog', 'c'.repeat(40), 'job 3: probation failed', 3);

  const res = await call('GET', '/api/repos/blog/releases');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.current, ids[1]);
  const rows = res.body.releases as { id: string; state: string; current: boolean; known_good: boolean; failed: boolean }[];
  const view = Object.fromEntries(rows.map((r) => [r.id, [r.state, r.current, r.known_good, r.failed]]));
  assert.deepEqual(view, {
    [ids[0] as string]: ['replaced', false, true, false],
    [ids[1] as string]: ['live', true, true, false],
    [ids[2] as string]: ['failed', false, false, true],
  });
  assert.deepEqual((res.body.bad as { sha: string; reason: string; job_id: number }[]).map((b) => [b.sha, b.reason, b.job_id]), [['c'.repeat(40), 'job 3: probation failed', 3]]);

  const mirrorOnly = await call('GET', '/api/repos/docs/releases');
  assert.equal(mirrorOnly.status, 200);
  assert.deepEqual([mirrorOnly.body.current, mirrorOnly.body.releases, mirrorOnly.body.deploy_path], [null, [], null]);
  assert.equal((await call('GET', '/api/repos/nope/releases')).status, 404);
  assert.equal((await call('GET', '/api/repos/blog/releases', null)).status, 401);
});

test('DELETE /api/repos/:repo/bad/:sha clears one mark by a unique prefix; an ambiguous, unknown or malformed sha changes nothing', async (t) => {
  const { store, call } = await server(t);
  const twinA = `1234567a${'0'.repeat(32)}`;
  const twinB = `1234567b${'0'.repeat(32)}`;
  const other = 'f'.repeat(40);
  for (const sha of [twinA, twinB, other]) store.markBad('blog', sha, `bad ${sha.slice(0, 8)}`, 7);

  const ambiguous = await call('DELETE', '/api/repos/blog/bad/1234567');
  assert.equal(ambiguous.status, 400);
  assert.match(String(ambiguous.body.message), /1234567 is ambiguous: it starts 2 commits of blog marked bad \(1234567a0000, 1234567b0000\); give more of the sha/);
  const unknown = await call('DELETE', '/api/repos/blog/bad/abcdef0');
  assert.equal(unknown.status, 404);
  assert.match(String(unknown.body.message), /no commit of blog starting with abcdef0 is marked bad/);
  for (const bad of ['123456', 'xyz1234567', '1234567a'.repeat(9)]) {
    const res = await call('DELETE', `/api/repos/blog/bad/${bad}`);
    assert.equal(res.status, 400, bad);
    assert.match(String(res.body.message), /is not a commit sha or a prefix of one \(7 to 64 hex digits\)/);
  }
  assert.equal((await call('DELETE', '/api/repos/nope/bad/1234567a')).status, 404);
  assert.equal((await call('DELETE', '/api/repos/blog/bad/1234567a', null)).status, 401);
  assert.equal(store.listBad('blog').length, 3, 'nothing was cleared so far');

  const ok = await call('DELETE', '/api/repos/blog/bad/1234567A');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.sha, twinA);
  assert.equal((ok.body.was as { reason: string }).reason, 'bad 1234567a');
  assert.deepEqual(store.listBad('blog').map((b) => b.sha).sort(), [twinB, other]);
  assert.equal((await call('DELETE', `/api/repos/blog/bad/${other}`)).status, 200, 'a whole sha works too');
});
