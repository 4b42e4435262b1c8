import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfigText } from './load.js';
import { ConfigError } from '../lib/errors.js';

const YAML = `data_dir: \${DATA:-./data}
auth_token: \${TOKEN}
repos:
  blog:
    url: https://ci:\${URL_PASS}@github.com/\${ORG}/blog.git
    secret: \${BLOG_SECRET}
    deploy: { path: ./srv }
`;

test('withoutSecrets: unset variables that feed secrets are left out (secret null, no auth_token); other unset variables are still errors', () => {
  const file = join('/tmp', 'autopull.yml');
  const c = parseConfigText(YAML, file, { ORG: 'acme' }, { withoutSecrets: true });
  assert.equal(c.auth_token, undefined);
  assert.equal(c.repos.get('blog' as never)?.secret, null);
  assert.match(c.repos.get('blog' as never)?.url ?? '', /^https:\/\/ci:.*@github\.com\/acme\/blog\.git$/);
  assert.equal(c.data_dir, '/tmp/data', 'a fallback is kept');

  const set = parseConfigText(YAML, file, { ORG: 'acme', TOKEN: 'a-token-of-16-chars-or-more', BLOG_SECRET: 'b', URL_PASS: 'p' }, { withoutSecrets: true });
  assert.equal(set.auth_token, 'a-token-of-16-chars-or-more', 'set variables are read as always');
  assert.equal(set.repos.get('blog' as never)?.secret, 'b');

  assert.throws(() => parseConfigText(YAML, file, {}, { withoutSecrets: true }), (err: ConfigError) => {
    assert.deepEqual(err.problems, ['repos.blog.url: environment variable ORG is not set']);
    return true;
  });
  assert.throws(() => parseConfigText(YAML, file, { ORG: 'acme' }), (err: ConfigError) => {
    assert.equal(err.problems.length, 3, 'without the option, each unset secret is an error');
    return true;
  });
});

test('withoutSecrets: an unset variable that is a whole notify url (a Slack hook) does not stop a read-only command', () => {
  const yaml = `data_dir: ./d\nnotify:\n  - { url: "\${SLACK_URL}", format: slack }\nrepos:\n  blog:\n    url: https://example.com/blog.git\n    secret: \${BLOG_SECRET}\n    deploy: { path: ./srv }\n`;
  const c = parseConfigText(yaml, '/tmp/autopull.yml', {}, { withoutSecrets: true });
  assert.ok(c.repos.get('blog' as never));
  assert.throws(() => parseConfigText(yaml, '/tmp/autopull.yml', {}), /SLACK_URL/);
});
