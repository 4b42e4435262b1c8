import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { Store, type Job } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { enqueueManual } from '../runner/manual.js';
import { silentLogger } from '../lib/log.js';
import { hg, hgCommit, hgRepo } from '../../test/helpers/hg.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('vcs: hg deploys the head of the default branch, then a bookmark and a tag, as clean trees from hg archive', async (t) => {
  const dir = tempDir(t);
  const src = hgRepo(join(dir, 'source'));
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(
    configFile,
    `data_dir: ./data\nrepos:\n  site:\n    url: ./source\n    vcs: hg\n    insecure: true\n    branches: [default]\n    deploy:\n      path: ./srv\n      build: ['echo "$AUTOPULL_REF $AUTOPULL_SHA" > built.txt']\n`,
  );
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const deploy = async (ref?: string) => {
    const { id } = enqueueManual(config, store, 'site', ref, false);
    worker.kick('site');
    await worker.idle();
    const job = store.getJob(id) as Job;
    return { job, log: store.logsAfter(id).map((l) => l.line).join('\n') };
  };
  const current = join(dir, 'srv', 'current');

  const v1 = hgCommit(src, { 'index.html': 'v1', 'sub/a.txt': 'a' }, 'first');
  const first = await deploy();
  assert.equal(first.job.state, 'succeeded', first.log);
  assert.equal(first.job.target_sha, v1);
  assert.equal(readFileSync(join(current, 'index.html'), 'utf8'), 'v1');
  assert.equal(readFileSync(join(current, 'built.txt'), 'utf8').trim(), `refs/heads/default ${v1}`);
  assert.deepEqual(readdirSync(current).sort(), ['built.txt', 'index.html', 'sub'], 'no .hg, no .hg_archival.txt');

  const v2 = hgCommit(src, { 'index.html': 'v2' }, 'second');
  hg(src, 'bookmark', '-r', v2, 'preview');
  hg(src, 'tag', '-u', 'Alice <a@example.com>', '-r', v1, 'v1.0');
  const second = await deploy();
  assert.equal(second.job.target_sha, hg(src, 'log', '-r', 'default', '-T', '{node}'), second.log);
  const preview = await deploy('preview');
  assert.equal(preview.job.target_sha, v2, preview.log);
  const tagged = await deploy('refs/tags/v1.0');
  assert.equal(tagged.job.target_sha, v1, tagged.log);
  assert.equal(readFileSync(join(current, 'index.html'), 'utf8'), 'v1');
  assert.ok(!existsSync(join(current, '.hg_archival.txt')));

  const missing = await deploy('nope');
  assert.equal(missing.job.state, 'failed');
  assert.match(missing.job.reason ?? '', /nope does not exist/);
});
