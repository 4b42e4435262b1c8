import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { Store, type Job } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { enqueueMirror } from '../runner/manual.js';
import { listMirrorStatus } from '../store/mirror-status.js';
import { silentLogger } from '../lib/log.js';
import { sshCommand } from '../vcs/git.js';
import { bareRemote, commit, git, push, workRepo } from '../../test/helpers/git.js';
import { gitHttpServer } from '../../test/helpers/git-http.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('an HTTPS token from token_env reaches the host through the credential helper and never the log, the status or the database', async (t) => {
  const dir = tempDir(t);
  const token = `tok_${randomBytes(12).toString('hex')}`;
  const wrong = `tok_${randomBytes(12).toString('hex')}`;
  bareRemote(join(dir, 'host', 'target.git'));
  git(join(dir, 'host', 'target.git'), 'config', 'http.receivepack', 'true');
  const host = await gitHttpServer(t, join(dir, 'host'), 'x-access-token', token);
  const work = workRepo(join(dir, 'work'), bareRemote(join(dir, 'source.git')));
  const sha = commit(work, { a: '1' });
  push(work);
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(configFile, `data_dir: ./data\nrepos:\n  src:\n    url: ./source.git\n    insecure: true\n    mirror:\n      - url: ${host.url}/target.git\n        token_env: AUTOPULL_TEST_MIRROR_TOKEN\n`);
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const mirror = async (value: string) => {
    process.env.AUTOPULL_TEST_MIRROR_TOKEN = value;
    t.after(() => delete process.env.AUTOPULL_TEST_MIRROR_TOKEN);
    const { id } = enqueueMirror(config, store, 'src');
    worker.kick('src');
    await worker.idle();
    return { job: store.getJob(id) as Job, log: store.logsAfter(id).map((l) => l.line).join('\n') };
  };

  const ok = await mirror(token);
  assert.match(ok.log, /mirror http:\/\/127\.0\.0\.1:\d+\/target\.git: 1 updated/, ok.log);
  assert.equal(git(join(dir, 'host', 'target.git'), 'rev-parse', 'refs/heads/main'), sha);

  const bad = await mirror(wrong);
  assert.equal(bad.job.state, 'succeeded');
  assert.match(bad.log, /target\.git failed: .*(Authentication failed|401)/, bad.log);
  const status = JSON.stringify(listMirrorStatus(store.db, 'src'));
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  for (const secret of [token, wrong]) {
    assert.ok(!bad.log.includes(secret) && !ok.log.includes(secret) && !status.includes(secret));
    for (const f of readdirSync(config.data_dir).filter((n) => n.startsWith('autopull.db'))) {
      assert.ok(!readFileSync(join(config.data_dir, f)).includes(secret), `${f} holds a token`);
    }
  }
});

test('an ssh_key is used alone, with new host keys accepted and remembered under data_dir', () => {
  const cmd = sshCommand("/etc/keys/it's", '/data/ssh/known_hosts');
  assert.equal(cmd, `ssh -i '/etc/keys/it'\\''s' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o 'UserKnownHostsFile=/data/ssh/known_hosts' -o BatchMode=yes -o ConnectTimeout=30`);
});
