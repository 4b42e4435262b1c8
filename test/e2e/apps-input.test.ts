import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twoApps } from '../helpers/apps.js';

test('bad input: an unknown repo, a repo without deploy.start, logs with neither or both of JOB and --app, restart with no server', async (t) => {
  const { cli } = await twoApps(t);
  const unknown = await cli(['restart', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no repo named "nope" is configured/);
  const plain = await cli(['restart', 'docs']);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /repo docs has no supervised app: its deploy: section has no start:/);
  const noServer = await cli(['restart', 'blog']);
  assert.equal(noServer.code, 1);
  assert.match(noServer.stderr, /no server is running: start autopull serve/);
  for (const args of [['logs', '--app', 'docs'], ['apps', 'docs'], ['logs', '--app', 'nope']]) {
    const r = await cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /no supervised app|no repo named/, args.join(' '));
  }
  const nothingYet = await cli(['logs', '--app', 'blog']);
  assert.equal(nothingYet.code, 1);
  assert.match(nothingYet.stderr, /the app of blog has no output yet/);
  for (const args of [['logs'], ['logs', '3', '--app', 'blog']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /give a JOB/, args.join(' '));
  }
});
