import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { waitForJob } from '../helpers/api.js';
import { commit, git } from '../helpers/git.js';

/**
 * A branch name is payload data (and a commit's author chooses it): shell text in it must reach
 * a build only as the value of AUTOPULL_REF, never be run. git allows $, (, ), ;, ` and | in
 * branch names.
 */
test('a pushed branch named with shell syntax reaches the build as AUTOPULL_REF text and runs nothing', async (t) => {
  const p = makeProject(t, { branches: ['*'], build: ['printf %s "$AUTOPULL_REF" > ref.txt'] });
  const branch = 'x$(touch${IFS}pwned1);touch${IFS}pwned2;`touch${IFS}pwned3`|cat';
  git(p.work, 'checkout', '-q', '-b', branch);
  const sha = commit(p.work, { 'index.html': 'hostile' });
  git(p.work, 'push', '-q', 'origin', branch);
  const s = await serve(p.configFile, t);
  const r = await deliverPush(s.url, p, sha, `refs/heads/${branch}`);
  const job = await waitForJob(s.url, p.token, r.job);
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(readFileSync(join(p.deployPath, 'current', 'ref.txt'), 'utf8'), `refs/heads/${branch}`);
  const pwned = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('pwned'));
  assert.deepEqual([...pwned(p.dir), ...pwned(p.deployPath), ...pwned(join(p.deployPath, 'current'))], []);
  assert.equal(existsSync(join(p.dir, 'pwned1')), false);
});
