import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { Store } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { enqueueManual } from '../runner/manual.js';
import { silentLogger } from '../lib/log.js';
import { rig } from '../../test/helpers/rig.js';
import { hgCommit, hgRepo } from '../../test/helpers/hg.js';
import { tempDir } from '../../test/helpers/tmp.js';

/**
 * Every process autopull starts (restart commands, git, hg) runs without the variables the
 * config uses for secrets. These tests run in-process: the variables are set in this test
 * process's environment, which is what autopull's children inherit from.
 */
function setEnv(t: { after(fn: () => unknown): void }, vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    const old = process.env[k];
    process.env[k] = v;
    t.after(() => {
      if (old === undefined) delete process.env[k];
      else process.env[k] = old;
    });
  }
}

const secretVars = () => ({ AUTOPULL_U_SECRET: `sec-${randomBytes(12).toString('hex')}`, AUTOPULL_U_TOKEN: `tok-${randomBytes(12).toString('hex')}` });

function useSecretVars(configFile: string): void {
  const text = readFileSync(configFile, 'utf8')
    .replace(/auth_token: \S+/, 'auth_token: ${AUTOPULL_U_TOKEN}')
    .replace(/secret: \S+/, 'secret: ${AUTOPULL_U_SECRET}');
  writeFileSync(configFile, text);
}

function assertNoSecrets(text: string, vars: Record<string, string>, what: string): void {
  for (const [k, v] of Object.entries(vars)) {
    assert.ok(!text.includes(v), `${what} saw the value of ${k}:\n${text}`);
    assert.ok(!text.includes(`${k}=`), `${what} saw ${k}:\n${text}`);
  }
}

test('a restart command and git (through its ssh) run without the secrets of the config', async (t) => {
  const vars = secretVars();
  setEnv(t, { ...vars, AUTOPULL_U_ALIAS: vars.AUTOPULL_U_SECRET, AUTOPULL_U_PLAIN: 'plain-visible' });
  // git reaches an ssh:// remote through `ssh` on PATH: this one records its environment, then
  // runs the upload-pack command git asked for, locally.
  const bin = tempDir(t);
  const dump = join(bin, 'ssh-env.txt');
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nenv > '${dump}'\nfor a; do last="$a"; done\nexec sh -c "$last"\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  setEnv(t, { PATH: `${bin}:${process.env.PATH ?? ''}` });

  const r = rig(t, { restart: 'env' });
  useSecretVars(r.p.configFile);
  r.p.pushCommit({ v: '1' });
  const job = await r.deployWith((yaml) => yaml.replace('url: ./remote.git', `url: "ssh://git.example.invalid${r.p.remote}"`));
  const log = r.log(job);
  assert.equal(job.state, 'succeeded', log);
  assert.match(log, /AUTOPULL_U_PLAIN=plain-visible/, 'the restart command printed its environment');
  assertNoSecrets(log, { ...vars, AUTOPULL_U_ALIAS: vars.AUTOPULL_U_SECRET }, 'the restart command');
  const sshEnv = readFileSync(dump, 'utf8');
  assert.match(sshEnv, /AUTOPULL_U_PLAIN=plain-visible/);
  assertNoSecrets(sshEnv, { ...vars, AUTOPULL_U_ALIAS: vars.AUTOPULL_U_SECRET }, 'git');
  assert.deepEqual(loadConfig(r.p.configFile).secretEnv, ['AUTOPULL_U_SECRET', 'AUTOPULL_U_TOKEN']);
});

test('hg runs without the secrets of the config (a hook of the source repository sees its environment)', async (t) => {
  const vars = secretVars();
  setEnv(t, { ...vars, AUTOPULL_U_PLAIN: 'plain-visible' });
  const dir = tempDir(t);
  const src = hgRepo(join(dir, 'source'));
  hgCommit(src, { 'index.html': 'v1' }, 'first');
  const dump = join(dir, 'hg-env.txt');
  // A local pull runs the source's own hooks in the puller's process: they see hg's environment.
  mkdirSync(join(src, '.hg'), { recursive: true });
  writeFileSync(join(src, '.hg', 'hgrc'), `[hooks]\npreoutgoing = env > '${dump}'\n`);
  const configFile = join(dir, 'autopull.yml');
  writeFileSync(
    configFile,
    `data_dir: ./data\nauth_token: \${AUTOPULL_U_TOKEN}\nrepos:\n  site:\n    url: ./source\n    vcs: hg\n    secret: \${AUTOPULL_U_SECRET}\n    branches: [default]\n    deploy:\n      path: ./srv\n`,
  );
  const config = loadConfig(configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  t.after(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const { id } = enqueueManual(config, store, 'site', undefined, false);
  worker.kick('site');
  await worker.idle();
  assert.equal(store.getJob(id)?.state, 'succeeded', store.logsAfter(id).map((l) => l.line).join('\n'));
  const hgEnv = readFileSync(dump, 'utf8');
  assert.match(hgEnv, /AUTOPULL_U_PLAIN=plain-visible/);
  assertNoSecrets(hgEnv, vars, 'hg');
});
