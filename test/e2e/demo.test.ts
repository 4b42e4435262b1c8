import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, runCli } from '../helpers/cli.js';

test('autopull demo --once deploys version 1 and cleans up', async () => {
  const res = await runCli(['demo', '--once']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /remote: autopull: 202 deploy queued for demo refs\/heads\/main/);
  assert.match(res.stdout, /live: version 1 \(commit [0-9a-f]{7}\)/);
  const dir = /autopull demo in (\S+)/.exec(res.stdout)?.[1] ?? '';
  assert.ok(dir && !existsSync(dir), 'the temp folder is removed');
});

test('autopull demo: the printed push-again commands deploy version 2; Ctrl-C stops it and removes the folder', async (t) => {
  const child = spawn(process.execPath, [CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of waiters) w();
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const waitFor = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}:\n${out}`)), 60_000);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      waiters.push(check);
      check();
    });
  await waitFor(/Press Ctrl-C/);
  const cd = (await waitFor(/^ {2}cd (\S+)$/m))[1] as string;
  const cmd = (await waitFor(/^ {2}(echo 2 > version\.txt .*)$/m))[1] as string;
  const site = (await waitFor(/^The site: +(\S+)$/m))[1] as string;
  // The dashboard link logs in once, then is useless.
  const link = (await waitFor(/^Dashboard: +(http\S+\/login\?once=\S+) +\(a one-time login link/m))[1] as string;
  const login = await fetch(link, { redirect: 'manual' });
  assert.equal(login.status, 303);
  assert.match(login.headers.getSetCookie().join('\n'), /^autopull_session=[^;]+;/m);
  assert.equal((await fetch(link, { redirect: 'manual' })).status, 401, 'a second use is refused');
  const push = spawn('sh', ['-c', cmd], { cwd: cd, stdio: 'ignore' });
  await new Promise((r) => push.on('exit', r));
  await waitFor(/live: version 2/);
  const served = (await (await fetch(`${site}version.json`)).json()) as { version: string };
  assert.equal(served.version, '2');
  const dir = /autopull demo in (\S+)/.exec(out)?.[1] ?? '';
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
  assert.ok(!existsSync(dir));
});
