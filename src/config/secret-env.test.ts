import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from './load.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('the variables that feed secrets: secret-like keys, urls with credentials, token_env; not paths or plain urls', (t) => {
  const keys = tempDir(t);
  writeFileSync(join(keys, 'docs'), 'docs-secret-value\n');
  const env = {
    HOME: '/home/ap',
    TOKEN: 'abcdefghijklmnopqrstuvwxyz',
    BLOG_SECRET: 'blog-secret-value',
    KEYDIR: keys,
    ORG: 'acme',
    GH_PASS: 'ghp_123456789',
    MIRROR_URL: 'https://bot:hunter2hunter2@example.com/m.git',
  };
  const c = parseConfigText(
    `data_dir: \${HOME}/data
auth_token: \${TOKEN}
repos:
  blog:
    url: https://github.com/\${ORG}/blog.git
    secret: \${BLOG_SECRET}
    deploy: { path: "\${HOME}/srv" }
  docs:
    url: https://x:\${GH_PASS}@github.com/\${ORG}/docs.git
    secret_file: \${KEYDIR}/docs
    mirror:
      - url: \${MIRROR_URL}
      - url: https://example.com/other.git
        token_env: OTHER_TOKEN
`,
    '/etc/ap/autopull.yml',
    env,
  );
  // secret_file holds a path (its content is the secret) and HOME feeds none; ORG is in a url
  // with credentials, and every variable of such a url is hidden.
  assert.deepEqual(c.secretEnv, ['BLOG_SECRET', 'GH_PASS', 'MIRROR_URL', 'ORG', 'OTHER_TOKEN', 'TOKEN']);
});

test('every variable in a notify url and a notify secret is hidden from commands: the url may be the credential', () => {
  const env = { SLACK_URL: 'https://hooks.slack.com/services/T0/B0/xyzxyzxyz', HOOK_KEY: 'whsec_abcdefgh', HOOK_HOST: 'hooks.example.com' };
  const c = parseConfigText(
    `notify:
  - { url: "\${SLACK_URL}", format: slack }
repos:
  blog:
    url: https://github.com/acme/blog.git
    insecure: true
    deploy: { path: /srv/blog }
    notify:
      - { url: "https://\${HOOK_HOST}/deploys", secret: "\${HOOK_KEY}" }
`,
    '/etc/ap/autopull.yml',
    env,
  );
  assert.deepEqual(c.secretEnv, ['HOOK_HOST', 'HOOK_KEY', 'SLACK_URL']);
});
