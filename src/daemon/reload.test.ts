import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../lib/log.js';
import { isFinal, type Job, type Store } from '../store/store.js';
import { startServer } from './start.js';
import { makeProject } from '../../test/helpers/project.js';
import { deliverPush } from '../../test/helpers/github.js';
import { waitForLine } from '../../test/helpers/daemon.js';
import { makeCertificate } from '../../test/helpers/tls.js';
import { writeFifo } from '../../test/helpers/fifo.js';

function finished(store: Store, id: number): Promise<Job> {
  return new Promise((resolve) => {
    const check = () => {
      const job = store.getJob(id);
      if (job && isFinal(job.state)) {
        store.off('job', check);
        resolve(job);
      }
    };
    store.on('job', check);
    check();
  });
}

test('a reload leaves a running job on the config it started with; the next job takes the new one', async (t) => {
  const p = makeProject(t);
  const fifo = join(p.dir, 'fifo');
  const started = join(p.dir, 'started');
  execFileSync('mkfifo', [fifo]);
  const block = `touch ${JSON.stringify(started)}; read line < ${JSON.stringify(fifo)}`;
  const text = readFileSync(p.configFile, 'utf8');
  writeFileSync(p.configFile, text.replace('build: []', `build: [${JSON.stringify(block)}, "printf old > built-by"]`));
  const server = await startServer(loadConfig(p.configFile), silentLogger());
  t.after(() => server.close());

  const first = await deliverPush(server.url, p, p.pushCommit({ v: '1' }));
  await waitForLine(started, /^/);
  writeFileSync(p.configFile, text.replace('build: []', 'build: ["printf new > built-by"]'));
  assert.equal(server.reload('test'), true);
  assert.deepEqual(server.config.current.repos.get('site' as never)?.deploy?.build, ['printf new > built-by']);
  await writeFifo(fifo);
  const one = await finished(server.store, first.job);
  assert.equal(one.state, 'succeeded', one.reason ?? '');
  assert.equal(readFileSync(join(p.deployPath, 'current', 'built-by'), 'utf8'), 'old', 'the running job kept its build steps');

  const second = await deliverPush(server.url, p, p.pushCommit({ v: '2' }));
  const two = await finished(server.store, second.job);
  assert.equal(two.state, 'succeeded', two.reason ?? '');
  assert.equal(readFileSync(join(p.deployPath, 'current', 'built-by'), 'utf8'), 'new', 'the next job took the reloaded ones');
});

test('a reload that changes data_dir or turns tls on is refused whole; listen changes wait for a restart', async (t) => {
  const p = makeProject(t);
  const server = await startServer(loadConfig(p.configFile), silentLogger());
  t.after(() => server.close());
  const text = readFileSync(p.configFile, 'utf8');
  writeFileSync(p.configFile, text.replace('data_dir: ./data', 'data_dir: ./elsewhere').replace('keep: 5', 'keep: 3'));
  assert.equal(server.reload('test'), false);
  assert.equal(server.config.current.repos.get('site' as never)?.deploy?.keep, 5, 'nothing of that file applied');
  assert.ok(!existsSync(join(p.dir, 'elsewhere')));
  const cert = makeCertificate(p.dir, 'c');
  writeFileSync(p.configFile, `tls: { cert: ${cert.cert}, key: ${cert.key} }\n${text}`);
  assert.equal(server.reload('test'), false, 'HTTP to HTTPS needs a restart');

  writeFileSync(p.configFile, text.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1').replace('keep: 5', 'keep: 3'));
  assert.equal(server.reload('test'), true);
  assert.equal(server.config.current.repos.get('site' as never)?.deploy?.keep, 3);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still on the address it started with');
});

test('a reload that gives a repo poll: checks it at once', async (t) => {
  const p = makeProject(t);
  const sha = p.pushCommit({ v: '1' });
  const server = await startServer(loadConfig(p.configFile), silentLogger());
  t.after(() => server.close());
  const polled = new Promise<Job>((resolve) => {
    server.store.on('job', (id: number) => {
      const job = server.store.getJob(id);
      if (job?.trigger === 'poll' && isFinal(job.state)) resolve(job);
    });
  });
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace('    branches:', '    poll: 1h\n    branches:'));
  assert.equal(server.reload('test'), true);
  const job = await polled;
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(job.target_sha, sha);
});
