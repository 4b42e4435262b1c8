import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOverride } from './override.js';
import { resolveTargets } from './targets.js';
import { redactText, redactUrl } from '../lib/redact.js';

const targets = [
  { url: 'https://example.com/plain.git' },
  { url: 'git@github.com:{owner}/{name}.git', allow_targets: ['git@github.com:acme/*', 'git@github.com:acme-*/*'] },
];

test('an override fills {owner}/{name} from ?owner=&name= or the legacy ?user=&project= when allow_targets allows the result', () => {
  assert.deepEqual(decideOverride('r', targets, {}), { kind: 'none' });
  assert.deepEqual(decideOverride('r', targets, { owner: 'acme', name: 'blog' }), { kind: 'ok', params: { owner: 'acme', name: 'blog' } });
  assert.deepEqual(decideOverride('r', targets, { user: 'acme-labs', project: 'fizz' }), { kind: 'ok', params: { owner: 'acme-labs', name: 'fizz' } });
  const resolved = resolveTargets(targets as never, { owner: 'acme', name: 'blog' });
  assert.deepEqual(resolved.targets.map((t) => t.url), ['https://example.com/plain.git', 'git@github.com:acme/blog.git']);
  assert.deepEqual(resolveTargets(targets as never, null).skipped, ['git@github.com:{owner}/{name}.git: needs ?owner=&name= on the hook URL']);
  assert.deepEqual(resolveTargets(targets as never, { targets: ['https://example.com/plain.git'] }).targets.length, 1);
});

test('an override is refused with the reason: not allowed, unsafe values, half given, nothing to fill', () => {
  const reason = (q: Record<string, string>, t: typeof targets = targets) => {
    const d = decideOverride('r', t, q);
    return d.kind === 'refused' ? d.reason : `not refused: ${d.kind}`;
  };
  assert.match(reason({ owner: 'evil', name: 'x' }), /git@github.com:evil\/x.git matches none of allow_targets/);
  for (const bad of ['a/b', '..', 'a b', 'a:b', '', '-x'.replace('-', '/'), 'x'.repeat(101)]) assert.match(reason({ owner: bad, name: 'x' }), /must be 1-100 characters/, bad);
  assert.match(reason({ owner: 'acme' }), /needs both/);
  assert.match(reason({ owner: 'acme', name: 'x' }, [targets[0] as never]), /no mirror target with \{owner\}\/\{name\}/);
  assert.match(reason({ owner: 'acme', name: 'x' }, [{ url: 'https://h/{owner}/{name}.git' }]), /has no allow_targets/);
});

test('credentials are masked in urls and in free text', () => {
  assert.equal(redactUrl('https://bot:s3cr3t-token@git.example.com/a.git'), 'https://bot:***@git.example.com/a.git');
  assert.equal(redactUrl('git@github.com:acme/a.git'), 'git@github.com:acme/a.git');
  assert.equal(redactText("fatal: unable to access 'https://u:p4ss@h/x.git/': 403, token ghp_abcdef", ['ghp_abcdef']), "fatal: unable to access 'https://u:***@h/x.git/': 403, token ***");
});
