import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipPresets, PRESET_NAMES } from './ip-presets.js';
import { validCidr } from './validate.js';
import { parseConfigText } from './load.js';
import { ConfigError } from '../lib/errors.js';

test('every preset names its source and date, and holds only valid CIDR blocks', () => {
  const presets = ipPresets();
  assert.deepEqual(Object.keys(presets).filter((k) => !k.startsWith('$')).sort(), [...PRESET_NAMES].sort());
  for (const name of PRESET_NAMES) {
    const p = presets[name];
    assert.match(p.source, /^https:\/\//, name);
    assert.match(p.as_of, /^\d{4}-\d{2}-\d{2}$/, name);
    assert.ok(p.cidrs.length > 0, name);
    for (const c of p.cidrs) assert.ok(validCidr(c) && c.includes('/'), `${name}: ${c}`);
  }
});

const config = (allow: string) => `repos:\n  blog: { url: 'https://github.com/acme/blog.git', secret: s3cret-preset, allow_ips: ${allow}, deploy: { path: ./srv } }\n`;

test('allow_ips presets expand to their ranges beside CIDR blocks; an unknown name is refused with a did-you-mean', () => {
  const c = parseConfigText(config('[github, 10.0.0.0/8, gitlab]'), '/x/autopull.yml', {});
  const allow = c.repos.get('blog' as never)?.allow_ips ?? [];
  assert.ok(allow.includes('140.82.112.0/20') && allow.includes('34.74.226.0/24') && allow.includes('10.0.0.0/8'), allow.join(' '));
  assert.ok(!allow.includes('github'));
  assert.throws(
    () => parseConfigText(config('[githab, bitbuckte]'), '/x/autopull.yml', {}),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.includes('repos.blog.allow_ips[0]: "githab" is not an IP address, a CIDR block or a preset (github, gitlab, bitbucket) (did you mean "github"?)') &&
      e.problems.some((p) => p.startsWith('repos.blog.allow_ips[1]:') && p.includes('did you mean "bitbucket"?')),
  );
});
