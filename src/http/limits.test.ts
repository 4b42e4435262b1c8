import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, maxConnections, openFileLimit, parseOpenFileLimit } from './limits.js';
import { limitsSchema } from '../config/schema.js';

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('the open-file limit is the soft limit of /proc/self/limits, 1024 when it cannot be read', () => {
  assert.equal(parseOpenFileLimit(PROC_LIMITS), 1024);
  assert.equal(parseOpenFileLimit(PROC_LIMITS.replace('1024   ', 'unlimited')), Number.MAX_SAFE_INTEGER);
  assert.equal(parseOpenFileLimit('nothing here'), null);
  assert.equal(openFileLimit(() => 'garbage'), 1024);
  assert.equal(openFileLimit(() => { throw new Error('ENOENT'); }), 1024);
  if (process.platform === 'linux') assert.ok(openFileLimit() > 0);
});

test('max_connections defaults to min(4096, open files - reserve) and a configured value wins', () => {
  const limits = limitsSchema.parse({});
  assert.equal(maxConnections(limits, 1024), 704);
  assert.equal(maxConnections(limits, 1_048_576), 4096);
  assert.equal(maxConnections(limits, 100), 16);
  assert.equal(maxConnections(limitsSchema.parse({ max_connections: 50 }), 1024), 50);
});

test('connections count per IPv4 address and per IPv6 /64', () => {
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
});
