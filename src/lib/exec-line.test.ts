import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { execLine } from './exec-line.js';

test('a simple command gets exec, after its assignments', () => {
  const cases: [string, string][] = [
    ['node server.js', 'exec node server.js'],
    ['  node server.js\n', 'exec node server.js'],
    ['PORT=1 NODE_ENV="a b" node server.js', 'PORT=1 NODE_ENV="a b" exec node server.js'],
    ['node server.js >> app.log 2>&1', 'exec node server.js >> app.log 2>&1'],
    ['node server.js >| app.log <&0', 'exec node server.js >| app.log <&0'],
    [`"/usr/bin/node" 'my app.js' --flag=a\\;b`, `exec "/usr/bin/node" 'my app.js' --flag=a\\;b`],
    [`node -e 'a(); b() && c() | d' "$HOME/x;y" "$(pwd)"`, `exec node -e 'a(); b() && c() | d' "$HOME/x;y" "$(pwd)"`],
    ['node server.js # the app', 'exec node server.js # the app'],
    ['./bin/app ${PORT}', 'exec ./bin/app ${PORT}'],
  ];
  for (const [line, want] of cases) assert.equal(execLine(line), want, JSON.stringify(line));
});

test('shell syntax, builtins, exec itself and broken quoting are left as written', () => {
  const same = [
    'exec node server.js',
    'cd app && node server.js',
    'node a; node b',
    'node a | tee log',
    'node a || node b',
    'node a &',
    'node a &> log',
    '(node a)',
    'node $(cat args)',
    'node `cat args`',
    'node a\nnode b',
    '# comment\nnode a',
    'node a \\\n  --flag',
    'if true; then node a; fi',
    '{ node a; }',
    '! node a',
    'cd app',
    '. ./env.sh',
    'ulimit -n 4096',
    'PORT=1',
    'node "unclosed',
    '',
  ];
  for (const line of same) assert.equal(execLine(line), line, JSON.stringify(line));
});

test('exec changes nothing the command does but the process that runs it', () => {
  const lines = [`printf '%s|' "a b" 'c;d' e\\ f`, `X=1 Y="2 3" sh -c 'printf "%s|" "$X" "$Y"'`, `printf '%s|' out 1>&2 2>&1`];
  for (const line of lines) {
    const run = (l: string) => execFileSync('sh', ['-c', l], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.notEqual(execLine(line), line);
    assert.equal(run(execLine(line)), run(line), line);
  }
  // The program runs as sh's own process: the pid sh had is the program's.
  const pids = (l: string) => execFileSync('sh', ['-c', `echo $$; ${l}`], { encoding: 'utf8' }).trim().split('\n');
  const inner = `sh -c 'echo $$'`;
  const [outer, program] = pids(execLine(inner));
  assert.equal(program, outer);
});
