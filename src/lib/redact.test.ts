import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl, scrub, urlSecrets } from './redact.js';

test('credentials in URLs are redacted for display and scrubbed from text', () => {
  assert.equal(redactUrl('https://deploy:s3cr%40t@github.com/acme/blog.git'), 'https://deploy:***@github.com/acme/blog.git');
  assert.equal(redactUrl('https://ghp_token123@github.com/acme/blog.git'), 'https://***@github.com/acme/blog.git');
  assert.equal(redactUrl('git@github.com:acme/blog.git'), 'git@github.com:acme/blog.git');
  const secrets = urlSecrets('https://deploy:s3cr%40t@github.com/acme/blog.git');
  assert.deepEqual(secrets, ['s3cr%40t', 's3cr@t']);
  assert.equal(scrub("fatal: unable to access 'https://deploy:s3cr@t@github.com/': 403", secrets), "fatal: unable to access 'https://deploy:***@github.com/': 403");
});
