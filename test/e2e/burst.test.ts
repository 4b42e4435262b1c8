import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { tempDir } from '../helpers/tmp.js';
import { commit, git } from '../helpers/git.js';
import { serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { allFinal, waitForJobs } from '../helpers/api.js';

test('a burst of 20 pushes while a deploy builds gives at most 3 deploys and ends on the last commit', async (t) => {
  // Builds wait until the test opens the gate, so that every push of the burst arrives
  // while the first job runs, however slow the machine is.
  const gate = join(tempDir(t), 'open');
  const p = makeProject(t, { build: [`while [ ! -e '${gate}' ]; do sleep 0.02; done`] });
  p.pushCommit({ n: '0' });
  const server = await serve(p.configFile, t);
  // 20 commits made up front and their objects sent once; each push is then the host
  // moving main to the next commit (what a push does on the remote), so 20 fit in 2 s.
  const shas: string[] = [];
  for (let i = 1; i <= 20; i++) shas.push(commit(p.work, { n: String(i) }, `push ${i}`));
  git(p.work, 'push', '--quiet', 'origin', 'HEAD:refs/staging/burst');
  let last = '';
  const answers: number[] = [];
  for (const sha of shas) {
    git(p.remote, 'update-ref', 'refs/heads/main', sha);
    last = sha;
    const res = await deliverPush(server.url, p, last);
    answers.push(res.status);
  }
  assert.deepEqual(new Set(answers), new Set([202]));
  writeFileSync(gate, '');

  const jobs = await waitForJobs(server.url, p.token, allFinal);
  const deploys = jobs.filter((j) => j.state === 'succeeded');
  assert.ok(deploys.length >= 1 && deploys.length <= 3, `deploys: ${deploys.length} (${JSON.stringify(jobs)})`);
  assert.equal(readFileSync(join(p.deployPath, 'current', 'n'), 'utf8'), '20');
  const newest = jobs.reduce((a, b) => (a.id > b.id ? a : b));
  assert.equal(newest.target_sha, last);
  await server.stop();
});
