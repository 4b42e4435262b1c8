import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeProject } from '../helpers/project.js';
import { runCli } from '../helpers/cli.js';

// ESC, BEL, CSI as a C1 character, a right-to-left override: what must never reach the terminal raw.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202e]/;

test("logs, status and deploy show a build's escape sequences escaped (tabs kept), never raw", async (t) => {
  const p = makeProject(t, {
    build: [String.raw`printf '\033]0;pwned\007\033[2J\tTAB \302\233c \342\200\256rev\n'; printf '\033[31mboom\n' >&2; exit 1`],
  });
  p.pushCommit({ v: '1' });
  const deploy = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(deploy.code, 1, deploy.stderr);
  const logs = await runCli(['logs', '1', '--no-follow', '-c', p.configFile]);
  const status = await runCli(['status', 'site', '-c', p.configFile]);
  for (const [name, out] of [['deploy', deploy.stdout], ['logs', logs.stdout], ['status', status.stdout]] as const) {
    assert.ok(!RAW.test(out), `${name} printed a raw control character:\n${JSON.stringify(out)}`);
  }
  assert.ok(logs.stdout.includes(String.raw`\x1b]0;pwned\x07\x1b[2J` + '\tTAB ' + String.raw`\u009bc \u202erev`), logs.stdout);
  assert.ok(logs.stdout.includes(String.raw`\x1b[31mboom`), logs.stdout);
  assert.ok(status.stdout.includes(String.raw`\x1b[31mboom`), status.stdout);
  assert.ok(deploy.stdout.includes(String.raw`\x1b]0;pwned\x07`), deploy.stdout);
});
