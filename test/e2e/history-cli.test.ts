import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, type Project } from '../helpers/project.js';
import { runCli, serve } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { allFinal, waitForJobs, waitForLog } from '../helpers/api.js';
import { Store } from '../../src/store/store.js';

// ESC, BEL, CSI as a C1 character: what must never reach the terminal raw.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202e]/;

/** The config reads its token and the repo's secret from ${VAR}s; returns those variables. */
function secretsFromEnv(p: Project): NodeJS.ProcessEnv {
  const text = readFileSync(p.configFile, 'utf8').replace(`auth_token: ${p.token}`, 'auth_token: ${HIST_T_TOKEN}').replace(`secret: ${p.secret}`, 'secret: ${HIST_T_SECRET}');
  writeFileSync(p.configFile, text);
  return { HIST_T_TOKEN: p.token, HIST_T_SECRET: p.secret };
}

/** No secret variable set: what an operator's shell without them looks like. */
const NO_SECRETS: NodeJS.ProcessEnv = { HIST_T_TOKEN: '', HIST_T_SECRET: '' };

test('jobs, releases, unmark and status in-process, without the secrets in the environment; output escaped', async (t) => {
  const p = makeProject(t, { build: [String.raw`if [ -f broken ]; then printf '\033[31mboom\n' >&2; exit 1; fi`] });
  const env = secretsFromEnv(p);
  const cli = (args: string[], e: NodeJS.ProcessEnv = NO_SECRETS) => runCli([...args, '-c', p.configFile], { env: e });
  const v1 = p.pushCommit({ v: '1' });
  assert.equal((await cli(['deploy', 'site'], env)).code, 0);
  const v2 = p.pushCommit({ v: '2' });
  assert.equal((await cli(['deploy', 'site'], env)).code, 0);
  p.pushCommit({ broken: 'yes' });
  assert.equal((await cli(['deploy', 'site'], env)).code, 1);
  assert.equal((await cli(['rollback', 'site'], env)).code, 0);
  const denied = await cli(['deploy', 'site']);
  assert.equal(denied.code, 1, 'a command that runs jobs still needs the secrets');
  assert.match(denied.stderr, /HIST_T_SECRET is not set/);

  const jobs = await cli(['jobs']);
  assert.equal(jobs.code, 0, jobs.stderr);
  const lines = jobs.stdout.trim().split('\n');
  assert.match(lines[0] as string, /^ID\s+REPO\s+KIND\s+STATE\s+FAILURE\s+TRIGGER\s+REF\s+SHA\s+CREATED \(UTC\)\s+TOOK\s+REASON$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5)), [
    ['4', 'site', 'rollback', 'succeeded', '-'],
    ['3', 'site', 'deploy', 'failed', 'build_failed'],
    ['2', 'site', 'deploy', 'succeeded', '-'],
    ['1', 'site', 'deploy', 'succeeded', '-'],
  ]);
  assert.ok(!RAW.test(jobs.stdout), `raw control character in:\n${JSON.stringify(jobs.stdout)}`);
  assert.ok(jobs.stdout.includes(String.raw`\x1b[31mboom`), jobs.stdout);
  const failed = JSON.parse((await cli(['jobs', 'site', '--state', 'failed', '--json'])).stdout) as { jobs: { id: number; failure: string }[] };
  assert.deepEqual(failed.jobs.map((j) => [j.id, j.failure]), [[3, 'build_failed']]);
  assert.equal((await cli(['jobs', '--limit', '2'])).stdout.trim().split('\n').length, 3);
  for (const args of [['jobs', '--limit', '0'], ['jobs', '--state', 'done'], ['unmark', 'site', 'xyz'], ['releases']]) {
    const res = await cli(args);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
  }
  const unknown = await cli(['jobs', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no repo named "nope" is configured \(known: site\)/);

  const releases = await cli(['releases', 'site']);
  assert.equal(releases.code, 0, releases.stderr);
  assert.match(releases.stdout, new RegExp(`\\*\\s+\\d{8}T\\d{6}-${v1.slice(0, 7)}\\s+${v1.slice(0, 7)}\\s+live\\s+yes`));
  assert.match(releases.stdout, new RegExp(`\\d{8}T\\d{6}-${v2.slice(0, 7)}\\s+${v2.slice(0, 7)}\\s+replaced\\s+yes`));
  assert.match(releases.stdout, new RegExp(`${v2}\\s+4\\s+\\S+ \\S+\\s+rolled back from by job 4`));
  const report = JSON.parse((await cli(['releases', 'site', '--json'])).stdout) as { current: string; bad: { sha: string }[] };
  assert.match(report.current, new RegExp(`-${v1.slice(0, 7)}$`));
  assert.deepEqual(report.bad.map((b) => b.sha), [v2]);

  // Two marks that share a 7-digit prefix: the prefix is ambiguous, a longer one is not.
  const twin = `${v2.slice(0, 7)}${v2[7] === '0' ? '1' : '0'}${'0'.repeat(32)}`;
  const store = new Store(join(p.dataDir, 'autopull.db'));
  store.markBad('site', twin, 'a twin', null);
  store.close();
  const ambiguous = await cli(['unmark', 'site', v2.slice(0, 7)]);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /is ambiguous: it starts 2 commits of site marked bad/);
  const unmark = await cli(['unmark', 'site', v2.slice(0, 8)]);
  assert.equal(unmark.code, 0, unmark.stderr);
  assert.match(unmark.stdout, new RegExp(`${v2} is no longer marked bad \\(it was: rolled back from by job 4\\)`));
  const again = await cli(['unmark', 'site', v2.slice(0, 8)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`no commit of site starting with ${v2.slice(0, 8)} is marked bad`));

  const status = await cli(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /jobs: {4}none running or queued/);
  assert.match(status.stdout, /last: {4}#4 succeeded/);
});

test('against a running server: status lists the running and queued jobs by id; jobs, releases and unmark go through its API', async (t) => {
  const p = makeProject(t, { build: [`for i in $(seq 1200); do [ -f ${JSON.stringify(join('..', '..', '..', 'gate'))} ] && exit 0; sleep 0.05; done; exit 1`] });
  const env = secretsFromEnv(p);
  const v1 = p.pushCommit({ v: '1' });
  const server = await serve(p.configFile, t, env);
  const first = await deliverPush(server.url, p, v1);
  assert.equal(first.status, 202);
  await waitForLog(server.url, p.token, first.job, /^build: /);
  const queued = await runCli(['deploy', 'site', '--no-wait', '-c', p.configFile], { env });
  assert.equal(queued.code, 0, queued.stderr);
  const rollback = await runCli(['rollback', 'site', '--no-wait', '-c', p.configFile], { env });
  assert.equal(rollback.code, 0, rollback.stderr);

  const status = await runCli(['status', 'site', '-c', p.configFile], { env: NO_SECRETS });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`running: #${first.job} deploy refs/heads/main ${v1.slice(0, 7)} \\(webhook, running `));
  assert.match(status.stdout, /queued: {2}#2 deploy \(default branch\) \(manual, queued /);
  assert.match(status.stdout, /queued: {2}#3 rollback \(manual, queued /);
  const json = JSON.parse((await runCli(['status', '--json', '-c', p.configFile], { env: NO_SECRETS })).stdout) as { repos: { active: { id: number; state: string }[] }[] };
  assert.deepEqual(json.repos[0]?.active.map((j) => [j.id, j.state]), [[first.job, 'running'], [2, 'queued'], [3, 'queued']]);

  writeFileSync(join(p.dir, 'gate'), '');
  await waitForJobs(server.url, p.token, (jobs) => jobs.length === 3 && allFinal(jobs));

  // The same config, but a data_dir that holds only the server's address and local token:
  // what the CLI shows can only have come from the server's API.
  const elsewhere = join(p.dir, 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o700 });
  for (const f of ['server.json', 'local.token']) copyFileSync(join(p.dataDir, f), join(elsewhere, f));
  const other = join(p.dir, 'other.yml');
  writeFileSync(other, readFileSync(p.configFile, 'utf8').replace('data_dir: ./data', 'data_dir: ./elsewhere'));
  const cli = (args: string[]) => runCli([...args, '-c', other], { env: NO_SECRETS });

  const jobs = JSON.parse((await cli(['jobs', '--json'])).stdout) as { jobs: { id: number; state: string; kind: string }[] };
  assert.deepEqual(jobs.jobs.map((j) => [j.id, j.kind, j.state]), [[3, 'rollback', 'failed'], [2, 'deploy', 'skipped'], [1, 'deploy', 'succeeded']]);
  const table = await cli(['jobs', 'site', '--state', 'failed']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^3\s+site\s+rollback\s+failed\s+no_rollback_target\s+manual/m);
  const releases = JSON.parse((await cli(['releases', 'site', '--json'])).stdout) as { current: string; releases: { state: string; current: boolean }[] };
  assert.deepEqual(releases.releases.map((r) => [r.state, r.current]), [['live', true]]);
  assert.equal((await cli(['releases', 'nope'])).code, 1);

  const store = new Store(join(p.dataDir, 'autopull.db'));
  t.after(() => store.close());
  store.markBad('site', v1, 'marked by the test', 1);
  const unmark = await cli(['unmark', 'site', v1.slice(0, 10)]);
  assert.equal(unmark.code, 0, unmark.stderr);
  await server.waitFor(new RegExp(`bad mark of ${v1} cleared`));
  assert.deepEqual(store.listBad('site'), []);
  const none = await cli(['unmark', 'site', v1.slice(0, 10)]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /is marked bad \(none is\)/);
  assert.equal(await server.stop(), 0);
});
