import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateConfig } from './validate.js';
import { jsonSchema } from './schema.js';
import { parseConfigText } from './load.js';
import { ConfigError } from '../lib/errors.js';
import { parseDuration, parseSize } from './duration.js';

test('a broken config reports every problem at once, each with its dotted path', () => {
  const input = parse(`
listen: nowhere
data_dir: 3
repos:
  blog:
    url: https://github.com/acme/blog.git
    secret: \${BLOG_SECRET}
    brnaches: [main]
    deploy:
      keep: zero
      timeout: 10x
  Bad_Name:
    url: x
    insecure: true
    deploy: { path: /srv/x }
`);
  const r = validateConfig(input, {});
  assert.equal(r.ok, false);
  if (r.ok) return;
  const expected = [
    'repos.blog.secret: environment variable BLOG_SECRET is not set',
    'listen: must be host:port',
    'data_dir: must be text, not 3',
    'repos.blog.brnaches: unknown key (did you mean "branches"?)',
    'repos.blog.deploy.path: is required',
    'repos.blog.deploy.keep: must be a number, not "zero"',
    'repos.blog.deploy.timeout: "10x" is not a duration',
    'repos.Bad_Name: "Bad_Name" is not a valid name',
  ];
  for (const e of expected) assert.ok(r.problems.some((p) => p.startsWith(e)), `missing "${e}" in:\n${r.problems.join('\n')}`);
});

test('a repo without a secret is refused unless insecure: true', () => {
  const base = { repos: { blog: { url: 'https://x/y.git', deploy: { path: '/srv' } } } };
  const r = validateConfig(base, {});
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : (r.problems[0] ?? ''), /^repos\.blog\.secret: required/);
  const insecure = validateConfig({ repos: { blog: { ...base.repos.blog, insecure: true } } }, {});
  assert.equal(insecure.ok, true);
});

test('${VAR} comes from the environment; ${VAR:-x} falls back; $${ is literal', () => {
  const c = parseConfigText(
    'auth_token: ${TOKEN}\nrepos:\n  a:\n    url: ${URL:-https://h/o/a.git}\n    secret: "$${NOT_A_VAR}"\n    deploy: { path: /srv/a }\n',
    '/etc/autopull/autopull.yml',
    { TOKEN: 'abcdefghijklmnopqrstuvwxyz' },
  );
  assert.equal(c.auth_token, 'abcdefghijklmnopqrstuvwxyz');
  const a = c.repos.get('a' as never);
  assert.equal(a?.url, 'https://h/o/a.git');
  assert.equal(a?.secret, '${NOT_A_VAR}');
});

test('defaults and relative paths: data_dir and deploy.path are relative to the config file', () => {
  const c = parseConfigText('repos:\n  a:\n    url: ./remote.git\n    secret: s\n    deploy: { path: srv, timeout: 2m }\n', '/etc/ap/autopull.yml', {});
  assert.equal(c.data_dir, '/etc/ap/.autopull');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8686 });
  const a = c.repos.get('a' as never);
  assert.equal(a?.url, '/etc/ap/remote.git');
  assert.equal(a?.deploy?.path, '/etc/ap/srv');
  assert.equal(a?.deploy?.timeout, 120_000);
  assert.equal(a?.deploy?.keep, 5);
  assert.deepEqual(a?.branches, ['main']);
});

test('YAML syntax errors are config errors, not crashes', () => {
  assert.throws(() => parseConfigText('repos: [\n', '/x.yml', {}), (e: unknown) => e instanceof ConfigError && /YAML/.test(e.problems[0] ?? ''));
});

test('the shipped config.schema.json is the one the zod schema generates', () => {
  const shipped = JSON.parse(readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8')) as unknown;
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(jsonSchema())), 'run: npm run schema');
});

test('durations and sizes as users write them', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration(5), 5000);
  assert.equal(parseDuration('5 minutes'), null);
  assert.equal(parseDuration('s'), null);
  assert.equal(parseSize('5MiB'), 5 * 1024 * 1024);
  assert.equal(parseSize('512kb'), 512 * 1024);
  assert.equal(parseSize('lots'), null);
});

test('deploy.start takes the supervisor keys with defaults; start with restart is refused', () => {
  const repo = { url: 'https://x/y.git', insecure: true };
  const ok = validateConfig({ repos: { a: { ...repo, deploy: { path: '/srv', start: 'node server.js', port: 3000, min_uptime: '2s', stop_timeout: 3 } } } }, {});
  assert.ok(ok.ok, ok.ok ? '' : ok.problems.join('\n'));
  if (ok.ok) {
    const d = ok.config.repos.a?.deploy;
    assert.deepEqual([d?.min_uptime, d?.max_restarts, d?.stop_timeout], [2000, 5, 3000]);
  }
  const both = validateConfig({ repos: { a: { ...repo, deploy: { path: '/srv', start: 'node s.js', restart: 'true', proxy: '127.0.0.1:3000' } } } }, {});
  assert.equal(both.ok, false);
  const problems = both.ok ? [] : both.problems;
  assert.ok(problems.some((p) => p.startsWith('repos.a.deploy.restart: give start')), problems.join('\n'));
});

test('deploy.proxy needs start and no port; a relative health url is then checked on the release port', () => {
  const repo = { url: 'https://x/y.git', insecure: true };
  const ok = validateConfig({ repos: { a: { ...repo, deploy: { path: '/srv', start: 'node s.js', proxy: '127.0.0.1:3000', health: { url: '/healthz' } } } } }, {});
  assert.ok(ok.ok, ok.ok ? '' : ok.problems.join('\n'));
  if (ok.ok) assert.equal(ok.config.repos.a?.deploy?.drain_timeout, 30_000);
  const bad = validateConfig({ repos: { a: { ...repo, deploy: { path: '/srv', restart: 'true', port: 3001, proxy: '127.0.0.1:3000' } } } }, {});
  const problems = bad.ok ? [] : bad.problems;
  assert.ok(problems.some((p) => p.startsWith('repos.a.deploy.proxy: needs deploy.start')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('repos.a.deploy.port: remove it')), problems.join('\n'));
});

test('shared entries that leave the release are refused by check, each with its path', () => {
  const deploy = { path: '/srv', shared: ['.env', 'uploads/', './conf/app.env', '../../x', '/etc/passwd', 'a/../../b', 'a/../b', '.', 'c/..'] };
  const r = validateConfig({ repos: { a: { url: 'https://x/y.git', insecure: true, deploy } } }, {});
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.problems;
  assert.deepEqual(
    problems.map((p) => p.split(':')[0]),
    [3, 4, 5, 6, 7, 8].map((i) => `repos.a.deploy.shared[${i}]`),
    problems.join('\n'),
  );
  assert.ok(problems.some((p) => p.startsWith('repos.a.deploy.shared[3]: "../../x" must stay inside the release')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('repos.a.deploy.shared[4]: "/etc/passwd" must be relative to the release')), problems.join('\n'));
});

test('an unknown key gets a suggestion valid at its own level, or the level it belongs to', () => {
  const deploy = { path: '/srv', tls: { cert: 'c', key: 'k' }, branches: ['main'], bulid: ['make'] };
  const r = validateConfig({ repos: { blog: { url: 'https://x/y.git', insecure: true, deploy } }, secret: 'x' }, {});
  const problems = r.ok ? [] : r.problems;
  assert.deepEqual(problems.filter((p) => p.includes('unknown key')).sort(), [
    'repos.blog.deploy.branches: unknown key here: branches belongs under repos.blog, not under repos.blog.deploy',
    'repos.blog.deploy.bulid: unknown key (did you mean "build"?)',
    'repos.blog.deploy.tls: unknown key here: tls belongs at the top level, not under repos.blog.deploy',
    'secret: unknown key here: secret belongs under repos.NAME or in each entry of notify: or in each entry of repos.NAME.notify:, not at the top level',
  ]);
  const none = validateConfig({ repos: { blog: { url: 'https://x/y.git', insecure: true, deploy: { path: '/srv', zzzzzz: 1 } } } }, {});
  assert.match(none.ok ? '' : (none.problems[0] ?? ''), /^repos\.blog\.deploy\.zzzzzz: unknown key \(the keys here are: path, build, shared, /);
});

test('a number out of range names the key, the value and the range allowed; an enum typo gets a suggestion', () => {
  const r = validateConfig({ repos: { blog: { url: 'https://x/y.git', insecure: true, providers: ['githb'], deploy: { path: '/srv', keep: 0, port: 70000 } } } }, {});
  const problems = r.ok ? [] : r.problems;
  assert.ok(problems.includes('repos.blog.deploy.keep: 0 is too small: give a whole number from 1 to 1000 (releases kept for rollback)'), problems.join('\n'));
  assert.ok(problems.includes('repos.blog.deploy.port: 70000 is too big: give a whole number from 1 to 65535 (PORT given to a supervised app)'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('repos.blog.providers[0]: must be one of github, gitlab,') && p.endsWith('not "githb" (did you mean "github"?)')), problems.join('\n'));
});

test('one value where a list is expected is taken as a list of one; a mapping there is explained', () => {
  const repo = { url: 'https://x/y.git', insecure: true, branches: 'main', tags: 'v*', providers: 'github', allow_ips: '10.0.0.0/8', deploy: { path: '/srv', build: 'make', shared: '.env' }, mirror: [{ url: 'y', refs: 'refs/heads/*' }] };
  const r = validateConfig({ trust_proxy: '127.0.0.1/32', repos: { blog: repo } }, {});
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  const b = r.config.repos.blog;
  assert.deepEqual([b?.branches, b?.tags, b?.providers, b?.allow_ips, b?.deploy?.build, b?.deploy?.shared, b?.mirror?.[0]?.refs, r.config.trust_proxy], [['main'], ['v*'], ['github'], ['10.0.0.0/8'], ['make'], ['.env'], ['refs/heads/*'], ['127.0.0.1/32']]);
  const bad = validateConfig({ repos: { blog: { ...repo, branches: { main: true }, allow_ips: 'nowhere' } } }, {});
  const problems = bad.ok ? [] : bad.problems;
  assert.ok(problems.includes('repos.blog.branches: must be one value or a list of them (like [a, b]), not a mapping'), problems.join('\n'));
  assert.ok(problems.includes('repos.blog.allow_ips: "nowhere" is not an IP address, a CIDR block or a preset (github, gitlab, bitbucket)'), problems.join('\n'));
});

test('a YAML error shows its line and a caret under the column, with a hint', () => {
  const text = 'repos:\n  blog:\n    url: https://x: y\n';
  assert.throws(
    () => parseConfigText(text, '/x.yml', {}),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems[0] === 'YAML line 3, column 10: Nested mappings are not allowed in compact mappings (a value holding ": " needs quotes, like url: "https://host:8080/x")\n    3 |     url: https://x: y\n      |          ^',
  );
});

test('notify: takes receivers at the top and per repo, with defaults; a bad url or event is refused', () => {
  const repo = { url: 'https://x/y.git', insecure: true, deploy: { path: '/srv' }, notify: [{ url: 'https://hooks.example.com/a', on: 'failure', format: 'slack' }] };
  const r = validateConfig({ notify: [{ url: 'http://127.0.0.1:9/x', secret: 'whsec_abc' }], repos: { blog: repo } }, {});
  assert.ok(r.ok, r.ok ? '' : r.problems.join('\n'));
  assert.deepEqual(r.config.notify?.[0], { url: 'http://127.0.0.1:9/x', secret: 'whsec_abc', on: ['all'], format: 'json', timeout: 10_000, retries: 3 });
  assert.deepEqual(r.config.repos.blog?.notify?.[0]?.on, ['failure']);
  const bad = validateConfig({ notify: [{ url: 'ftp://x/y', on: ['failures'], retries: 50 }], repos: { blog: repo } }, {});
  const problems = bad.ok ? [] : bad.problems;
  assert.ok(problems.includes('notify[0].url: must be an http(s) URL, like https://hooks.example.com/deploys'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('notify[0].on[0]: must be one of success, failure, recovery,') && p.includes('(did you mean "failure"?)')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('notify[0].retries: 50 is too big: give a whole number from 0 to 10')), problems.join('\n'));
});
