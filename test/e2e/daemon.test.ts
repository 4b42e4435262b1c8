import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { runCli } from '../helpers/cli.js';
import { alive, sizeOf, startDaemon, waitForLine } from '../helpers/daemon.js';

test('serve --daemon returns once it listens, in a session of its own, with its pid in the pid file; a second start is refused naming the pid; stop removes both', async (t) => {
  const p = makeProject(t);
  const d = await startDaemon(p.configFile, t);
  assert.equal(d.pidFile, join(p.dataDir, 'autopull.pid'));
  assert.equal(d.logFile, join(p.dataDir, 'autopull.log'));
  assert.equal(statSync(p.dataDir).mode & 0o777, 0o700, 'data_dir is made owner-only');
  assert.equal(statSync(d.logFile).mode & 0o777, 0o600, 'and so is the log');
  assert.equal(readFileSync(d.pidFile, 'utf8'), `${d.pid}\n`);
  // Listening when the command returned: no wait here.
  assert.equal((await fetch(`${d.url}/healthz`)).status, 200);
  const stat = readFileSync(`/proc/${d.pid}/stat`, 'utf8').slice(readFileSync(`/proc/${d.pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  assert.equal(Number(stat[3]), d.pid, 'the daemon leads a session of its own (setsid)');

  const second = await runCli(['serve', '--daemon', '-c', p.configFile]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`already runs with pid ${d.pid}`));
  assert.equal(readFileSync(d.pidFile, 'utf8'), `${d.pid}\n`, 'the refused start left the pid file alone');
  const foreground = await runCli(['serve', '-c', p.configFile]);
  assert.equal(foreground.code, 1, 'a foreground serve on the same data_dir is refused too');
  assert.match(foreground.stderr, new RegExp(`already runs with pid ${d.pid}`));

  const stopped = await d.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, new RegExp(`autopull \\(pid ${d.pid}\\) stopped`));
  assert.ok(!alive(d.pid), 'the process is gone when stop returns');
  assert.ok(!existsSync(d.pidFile), 'and so is the pid file');
  const log = readFileSync(d.logFile, 'utf8');
  assert.match(log, /"signal":"SIGTERM","msg":"stopping"/);
  assert.match(log, /"msg":"stopped"/);
  for (const line of log.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `a log line that is not JSON: ${line}`);

  const again = await runCli(['stop', '-c', p.configFile]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /not running/);
});

test('serve --daemon exits 1 with the reason when the daemon cannot listen, and leaves no pid file', async (t) => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const p = makeProject(t);
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
  const res = await runCli(['serve', '--daemon', '-c', p.configFile]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /did not start: .*EADDRINUSE/);
  assert.ok(!existsSync(join(p.dataDir, 'autopull.pid')));
});

test('a pid file left by a dead autopull, or naming a process that is not autopull, does not block a start', async (t) => {
  const p = makeProject(t);
  const pidFile = join(p.dir, 'custom.pid');
  // This test process is alive, and it is not an autopull server.
  writeFileSync(pidFile, `${process.pid}\n`);
  const d = await startDaemon(p.configFile, t, ['--pid-file', pidFile, '--log-file', join(p.dir, 'custom.log'), '--log-level', 'warn']);
  assert.equal(readFileSync(pidFile, 'utf8'), `${d.pid}\n`);
  // With --pid-file, stop needs no config.
  const stopped = await runCli(['stop', '--pid-file', pidFile, '-c', join(p.dir, 'no-such.yml')]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!existsSync(pidFile));
  const lines = readFileSync(join(p.dir, 'custom.log'), 'utf8').trim().split('\n').filter(Boolean);
  assert.ok(existsSync(join(p.dir, 'custom.log')), 'the log goes to --log-file');
  assert.ok(lines.every((l) => (JSON.parse(l) as { level: number }).level >= 40), '--log-level warn leaves out info lines');

  // The pid of a process that has ended (as after a kill -9 of autopull).
  const dead = spawnSync('true').pid;
  writeFileSync(join(p.dataDir, 'autopull.pid'), `${dead}\n`);
  const next = await startDaemon(p.configFile, t);
  assert.equal(readFileSync(join(p.dataDir, 'autopull.pid'), 'utf8'), `${next.pid}\n`);
  assert.equal((await next.stop()).code, 0);
});

test('serve refuses a log level it does not know (exit 2)', async () => {
  const res = await runCli(['serve', '--daemon', '--log-level', 'loud', '-c', '/nonexistent.yml']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--log-level must be one of .* not "loud"/);
});

test('SIGUSR2 reopens the log file: after logrotate moved it, new lines go to a new file of that name', async (t) => {
  const p = makeProject(t);
  const d = await startDaemon(p.configFile, t);
  const rotated = `${d.logFile}.1`;
  renameSync(d.logFile, rotated);
  process.kill(d.pid, 'SIGUSR2');
  await waitForLine(d.logFile, /"msg":"log file reopened \(SIGUSR2\)/);
  process.kill(d.pid, 'SIGHUP');
  await waitForLine(d.logFile, /config reloaded \(SIGHUP\)/);
  const old = readFileSync(rotated, 'utf8');
  assert.match(old, /listening on/);
  assert.doesNotMatch(old, /reopened|config reloaded/, 'nothing more goes to the moved file');
  assert.equal((statSync(d.logFile).mode & 0o777).toString(8), '600', 'the new log file is owner-only');
  assert.equal((await d.stop()).code, 0);
});

test('stop works while the config file is broken and its secrets unset', async (t) => {
  const p = makeProject(t);
  const d = await startDaemon(p.configFile, t);
  const from = sizeOf(d.logFile);
  writeFileSync(p.configFile, readFileSync(p.configFile, 'utf8').replace(`secret: ${p.secret}`, 'secret: ${UNSET_SECRET_FOR_TEST}\n    bogus: 1'));
  await waitForLine(d.logFile, /config reload \(file change\) refused/, { from });
  const stopped = await d.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(!alive(d.pid));
});
