import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { startServer } from '../daemon/start.js';
import { silentLogger } from '../lib/log.js';
import { makeProject } from '../../test/helpers/project.js';
import type { Job, Store } from '../store/store.js';

/** Resolves with the next job that ends in a final state and satisfies `pred`. */
function nextFinished(store: Store, pred: (j: Job) => boolean): Promise<Job> {
  return new Promise((resolve) => {
    const onJob = (id: number) => {
      const job = store.getJob(id);
      if (job && !['queued', 'running'].includes(job.state) && pred(job)) {
        store.off('job', onJob);
        resolve(job);
      }
    };
    store.on('job', onJob);
  });
}

test('poll: a push made with no webhook is deployed; one missed while autopull was down is caught at start', async (t) => {
  const p = makeProject(t, { repoYaml: '    poll: 100ms' });
  const missed = p.pushCommit({ v: '1' });
  const config = loadConfig(p.configFile);
  const server = await startServer(config, silentLogger());
  t.after(() => server.close());
  const first = await nextFinished(server.store, (j) => j.trigger === 'poll');
  assert.equal(first.state, 'succeeded', first.reason ?? '');
  assert.equal(first.target_sha, missed);

  const pushed = p.pushCommit({ v: '2' });
  const second = await nextFinished(server.store, (j) => j.trigger === 'poll' && j.id !== first.id);
  assert.equal(second.state, 'succeeded', second.reason ?? '');
  assert.equal(second.target_sha, pushed);
  assert.equal(readFileSync(join(p.deployPath, 'current', 'v'), 'utf8'), '2');

  const repo = config.repos.get('site' as never);
  assert.ok(repo);
  assert.equal(await server.poller.check(repo), null, 'nothing moved: nothing queued');
});
