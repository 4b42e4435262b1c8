import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipAllowed } from './ip-allow.js';

test('IPv4-mapped IPv6 addresses match IPv4 blocks, in every spelling', () => {
  for (const a of ['10.1.2.3', '::ffff:10.1.2.3', '::FFFF:10.1.2.3', '::ffff:a01:203', '0:0:0:0:0:ffff:10.1.2.3', '0:0:0:0:0:ffff:0a01:0203']) {
    assert.equal(ipAllowed(a, ['10.1.2.0/24']), true, a);
  }
  assert.equal(ipAllowed('10.1.2.3', ['::ffff:10.1.2.0/120']), true, 'an IPv4 address matches a mapped block');
  assert.equal(ipAllowed('::ffff:10.1.3.3', ['10.1.2.0/24']), false);
});

test('what is not a plain address is refused: ports, brackets, other IPv6 embeddings, junk', () => {
  for (const a of ['10.1.2.3:443', '[::ffff:10.1.2.3]', '::10.1.2.3', '64:ff9b::10.1.2.3', 'unknown', '']) {
    assert.equal(ipAllowed(a, ['10.1.2.0/24']), false, a);
  }
  assert.equal(ipAllowed('2001:db8::1', ['2001:db8::/32']), true);
  assert.equal(ipAllowed('2001:db9::1', ['2001:db8::/32']), false);
});
