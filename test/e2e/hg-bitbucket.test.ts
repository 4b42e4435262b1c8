import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../helpers/cli.js';
import { hgCommit, hgRepo } from '../helpers/hg.js';
import { tempDir } from '../helpers/tmp.js';
import { fixture, formDelivery } from '../helpers/senders.js';
import { post } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';

test('the legacy Bitbucket POST service deploys a Mercurial repository (the job this project replaces)', async (t) => {
  const dir = tempDir(t);
  const src = hgRepo(join(dir, 'source'));
  const token = 'bitbucket-url-token-1234';
  const apiToken = 'api-token-0123456789abcdef';
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(
    configFile,
    `listen: 127.0.0.1:0\ndata_dir: ./data\nauth_token: ${apiToken}\nrepos:\n  site:\n    url: ./source\n    vcs: hg\n    secret: ${token}\n    providers: [bitbucket-legacy]\n    branches: [default]\n    deploy:\n      path: ./srv\n`,
  );
  const sha = hgCommit(src, { 'index.html': 'hg v1' }, 'first');
  const server = await serve(configFile, t);

  // Atlassian's documented POST service payload, pointed at this repository's commit on hg's default branch.
  const payload = fixture('bitbucket-legacy', 'post-service.json');
  const repository = payload.repository as Record<string, unknown>;
  repository.scm = 'hg';
  for (const c of payload.commits as Record<string, unknown>[]) {
    c.branch = 'default';
    c.raw_node = sha;
  }
  const refused = await post(`${server.url}/hooks/site?token=wrong`, formDelivery(payload));
  assert.equal(refused.status, 403);
  const res = await post(`${server.url}/hooks/site?token=${token}`, formDelivery(payload));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(server.url, apiToken, (res.body.jobs as number[])[0] as number);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(job.target_sha, sha);
  assert.equal(readFileSync(join(dir, 'srv', 'current', 'index.html'), 'utf8'), 'hg v1');
  assert.equal(await server.stop(), 0);
});
