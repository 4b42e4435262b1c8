import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeProject, type Project } from '../helpers/project.js';
import { runCli, serve } from '../helpers/cli.js';
import { Store } from '../../src/store/store.js';

const mode = (p: string) => statSync(p).mode & 0o777;

/** The project's config with its secrets read from ${VAR}s, and those variables' values. */
interface SecretEnv {
  AUTOPULL_T_TOKEN: string;
  AUTOPULL_T_SECRET: string;
  AUTOPULL_T_URLPASS: string;
  AUTOPULL_T_MIRROR: string;
  AUTOPULL_T_PLAIN: string;
}

function withSecretEnv(p: Project): SecretEnv {
  const env = {
    AUTOPULL_T_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
    AUTOPULL_T_SECRET: `sec-${randomBytes(12).toString('hex')}`,
    AUTOPULL_T_URLPASS: `url-${randomBytes(12).toString('hex')}`,
    AUTOPULL_T_MIRROR: `mir-${randomBytes(12).toString('hex')}`,
    AUTOPULL_T_PLAIN: 'plain-visible',
  };
  const text = readFileSync(p.configFile, 'utf8')
    .replace(`auth_token: ${p.token}`, 'auth_token: ${AUTOPULL_T_TOKEN}')
    .replace(`secret: ${p.secret}`, 'secret: ${AUTOPULL_T_SECRET}');
  writeFileSync(p.configFile, text);
  return env;
}

test('builds and supervised apps see no secret or token of the config: not in the job log, the app log or the database', async (t) => {
  const p = makeProject(t, {
    build: ['env'],
    // Port 9 refuses: the mirrors fail fast, and their credentials still must not leak.
    repoYaml: `    mirror:\n      - url: "http://ci:\${AUTOPULL_T_URLPASS}@127.0.0.1:9/a.git"\n      - url: "http://127.0.0.1:9/b.git"\n        token_env: AUTOPULL_T_MIRROR\n`,
    deployYaml: `      start: "env; exec sleep 600"\n      min_uptime: 300ms\n      probation: 0s\n      stop_timeout: 1s\n`,
  });
  const env = withSecretEnv(p);
  // The same value under a name the config does not use is hidden too.
  const all = { ...env, AUTOPULL_T_ALIAS: env.AUTOPULL_T_SECRET };
  const secrets = [env.AUTOPULL_T_TOKEN, env.AUTOPULL_T_SECRET, env.AUTOPULL_T_URLPASS, env.AUTOPULL_T_MIRROR];
  p.pushCommit({ v: '1' });
  const server = await serve(p.configFile, t, all);
  const deploy = await runCli(['deploy', 'site', '-c', p.configFile], { env: all });
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
  assert.match(deploy.stdout, /queued on http/, 'the job ran in the server');

  const logs = await runCli(['logs', '1', '--no-follow', '-c', p.configFile], { env: all });
  assert.match(logs.stdout, /AUTOPULL_T_PLAIN=plain-visible/, 'the build printed its environment');
  assert.match(logs.stdout, /AUTOPULL_REPO=site/);
  const appLogs = readdirSync(join(p.dataDir, 'logs', 'site')).map((f) => join(p.dataDir, 'logs', 'site', f));
  assert.equal(appLogs.length, 1);
  const appLog = readFileSync(appLogs[0] as string, 'utf8');
  assert.match(appLog, /AUTOPULL_T_PLAIN=plain-visible/, 'the app printed its environment');
  for (const s of secrets) {
    assert.ok(!logs.stdout.includes(s), `a secret in the job log:\n${logs.stdout}`);
    assert.ok(!appLog.includes(s), `a secret in the app log:\n${appLog}`);
  }
  for (const name of ['AUTOPULL_T_TOKEN', 'AUTOPULL_T_SECRET', 'AUTOPULL_T_URLPASS', 'AUTOPULL_T_MIRROR', 'AUTOPULL_T_ALIAS']) {
    assert.ok(!logs.stdout.includes(`${name}=`), `${name} reached the build`);
    assert.ok(!appLog.includes(`${name}=`), `${name} reached the app`);
  }

  // Owner-only: data_dir, the database and its WAL files (while the server runs), the app log.
  assert.equal(mode(p.dataDir), 0o700);
  for (const f of ['autopull.db', 'autopull.db-wal', 'autopull.db-shm']) assert.equal(mode(join(p.dataDir, f)), 0o600, f);
  assert.equal(mode(appLogs[0] as string), 0o600);

  assert.equal(await server.stop(), 0);
  for (const f of readdirSync(p.dataDir).filter((n) => n.startsWith('autopull.db'))) {
    const bytes = readFileSync(join(p.dataDir, f));
    for (const s of secrets) {
      const at = bytes.indexOf(s);
      assert.ok(at < 0, `${f} holds a secret: ${bytes.subarray(Math.max(0, at - 200), at + 60).toString('latin1')}`);
    }
  }
});

test('a start tightens the database an older autopull left world-readable and warns about a loose data_dir', async (t) => {
  const p = makeProject(t);
  mkdirSync(p.dataDir, { mode: 0o755 });
  chmodSync(p.dataDir, 0o755);
  new Store(join(p.dataDir, 'autopull.db')).close();
  chmodSync(join(p.dataDir, 'autopull.db'), 0o644);
  const server = await serve(p.configFile, t);
  await server.waitFor(/data_dir .* is open to other users \(mode 0755\)/, 5000);
  assert.equal(mode(join(p.dataDir, 'autopull.db')), 0o600);
  for (const f of ['autopull.db-wal', 'autopull.db-shm']) if (existsSync(join(p.dataDir, f))) assert.equal(mode(join(p.dataDir, f)), 0o600, f);
  assert.equal(mode(join(p.dataDir, 'local.token')), 0o600);
  assert.equal(mode(p.dataDir), 0o755, 'data_dir itself is the operator\'s choice: warned about, not changed');
});
