import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, type Project } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { githubDelivery, githubPush, post } from '../helpers/github.js';
import { api } from '../helpers/api.js';

/** Replaces the file as editors and config tools do: a new file renamed over the old one. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

async function deliver(url: string, p: Project, secret: string): Promise<number> {
  return (await post(`${url}/hooks/site`, githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: p.remote }), secret))).status;
}

const repoNames = async (url: string, token: string) => (await api<{ repos: { repo: string }[] }>(url, token, '/api/repos')).repos.map((r) => r.repo).sort();

test('SIGHUP reads secret_file again; a config with problems is refused, each problem logged, and the running one kept', async (t) => {
  const p = makeProject(t);
  const siteSecret = join(p.dir, 'site.secret');
  const blogSecret = join(p.dir, 'blog.secret');
  writeFileSync(siteSecret, `${p.secret}\n`);
  writeFileSync(blogSecret, 'blog-secret-0123456789\n');
  const text = readFileSync(p.configFile, 'utf8').replace(`secret: ${p.secret}`, 'secret_file: ./site.secret');
  writeFileSync(p.configFile, `${text}  blog:\n    url: ./remote.git\n    secret_file: ./blog.secret\n    deploy:\n      path: ./srv-blog\n`);
  const server = await serve(p.configFile, t);
  assert.equal(await deliver(server.url, p, p.secret), 202);

  writeFileSync(siteSecret, 'the-new-secret-0123456789\n');
  server.proc.kill('SIGHUP');
  await server.waitFor(/config reloaded \(SIGHUP\)/);
  assert.equal(await deliver(server.url, p, p.secret), 403, 'the old secret no longer verifies');
  assert.equal(await deliver(server.url, p, 'the-new-secret-0123456789'), 202, 'the one read at the reload does');

  writeFileSync(siteSecret, '');
  rmSync(blogSecret);
  server.proc.kill('SIGHUP');
  await server.waitFor(/config reload \(SIGHUP\) refused: 2 problems in .*; the running config is kept/);
  assert.match(server.output(), /config reload refused: repos\.site\.secret_file: .*site\.secret is empty/);
  assert.match(server.output(), /config reload refused: repos\.blog\.secret_file: cannot read .*blog\.secret: ENOENT/);
  assert.equal(await deliver(server.url, p, 'the-new-secret-0123456789'), 202, 'the running config still verifies');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal(server.proc.exitCode, null, 'SIGHUP never stops serve');
  // Ctrl-C stops serve as SIGTERM does (and before the temp folder goes: the jobs queued above write into it).
  const exited = new Promise<number | null>((resolve) => server.proc.once('exit', (code) => resolve(code)));
  server.proc.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(server.output(), /"signal":"SIGINT","msg":"stopping"/);
  assert.match(server.output(), /"msg":"stopped"/);
});

test('a change of the config file reloads it: a repo added takes deliveries, a broken file is refused, a repo removed takes none', async (t) => {
  const p = makeProject(t);
  const server = await serve(p.configFile, t);
  const base = readFileSync(p.configFile, 'utf8');
  assert.deepEqual(await repoNames(server.url, p.token), ['site']);
  const other = (await post(`${server.url}/hooks/other`, githubDelivery('push', githubPush({ after: 'b'.repeat(40), cloneUrl: p.remote }), p.secret))).status;
  assert.equal(other, 404);

  const withOther = `${base}  other:\n    url: ./remote.git\n    secret: ${p.secret}\n    mirror:\n      - url: ./mirror.git\n`;
  replaceFile(p.configFile, withOther);
  await server.waitFor(/config reloaded \(file change\); added other/);
  assert.deepEqual(await repoNames(server.url, p.token), ['other', 'site']);
  const accepted = await post(`${server.url}/hooks/other`, githubDelivery('push', githubPush({ after: 'b'.repeat(40), cloneUrl: p.remote }), p.secret));
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));

  replaceFile(p.configFile, withOther.replace('keep: 5', 'keep: 0').replace('    url: ./remote.git\n    secret: ', '    url: ./remote.git\n    secrett: x\n    secret: '));
  await server.waitFor(/config reload \(file change\) refused: 2 problems/);
  assert.match(server.output(), /config reload refused: repos\.site\.deploy\.keep: /);
  assert.match(server.output(), /config reload refused: repos\.site\.secrett: /);
  assert.deepEqual(await repoNames(server.url, p.token), ['other', 'site'], 'the running config is kept');

  replaceFile(p.configFile, base);
  await server.waitFor(/config reloaded \(file change\); removed other/);
  assert.deepEqual(await repoNames(server.url, p.token), ['site']);
  const refused = await post(`${server.url}/hooks/other`, githubDelivery('push', githubPush({ after: 'c'.repeat(40), cloneUrl: p.remote }), p.secret));
  assert.equal(refused.status, 404);
  assert.equal(await server.stop(), 0);
});
