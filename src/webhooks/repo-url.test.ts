import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoKey, urlEndsWithFullName } from './repo-url.js';

test('every spelling of one repository gives one key', () => {
  const spellings = [
    'https://github.com/acme/blog.git',
    'https://github.com/acme/blog',
    'https://github.com/Acme/Blog/',
    'https://user:pw@github.com/acme/blog.git',
    'http://github.com:443/acme/blog.git',
    'git@github.com:acme/blog.git',
    'git@github.com:acme/blog',
    'github.com:acme/blog.git',
    'ssh://git@github.com/acme/blog.git',
    'ssh://git@github.com:2222/acme/blog.git',
    'ssh://github.com/acme/blog',
    'git://github.com/acme/blog.git',
  ];
  for (const s of spellings) assert.equal(repoKey(s), 'github.com/acme/blog', s);
});

test('local paths and file:// URLs match each other', () => {
  assert.equal(repoKey('/srv/git/blog.git'), 'file/srv/git/blog');
  assert.equal(repoKey('file:///srv/git/blog.git'), 'file/srv/git/blog');
  assert.equal(repoKey('file://localhost/srv/git/blog'), 'file/srv/git/blog');
});

test('different repositories do not collide', () => {
  assert.notEqual(repoKey('https://github.com/acme/blog.git'), repoKey('https://gitlab.com/acme/blog.git'));
  assert.notEqual(repoKey('https://github.com/acme/blog.git'), repoKey('https://github.com/acme/blog2.git'));
  assert.equal(repoKey(''), null);
  assert.equal(repoKey('https://github.com/'), null);
});

test('a full name matches a configured url only on whole path segments', () => {
  assert.equal(urlEndsWithFullName('git@github.com:acme/blog.git', 'acme/blog'), true);
  assert.equal(urlEndsWithFullName('https://gitlab.example/g1/g2/blog.git', 'g1/g2/blog'), true);
  assert.equal(urlEndsWithFullName('git@github.com:acme/myblog.git', 'acme/blog'), false);
  assert.equal(urlEndsWithFullName('git@github.com:notacme/blog.git', 'acme/blog'), false);
});

test('percent escapes in a path match the same name unescaped (Azure DevOps remoteUrl)', () => {
  assert.equal(repoKey('https://org.visualstudio.com/DefaultCollection/_git/V1%20Integration'), repoKey('https://org.visualstudio.com/DefaultCollection/_git/V1 Integration'));
  assert.equal(repoKey('https://host/a/b%ZZ'), 'host/a/b%zz');
});
