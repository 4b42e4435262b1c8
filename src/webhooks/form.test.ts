import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formField } from './form.js';

const field = (body: string | Buffer, name = 'payload') => formField(Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), name);

test('a form field is percent-decoded to the bytes sent, invalid UTF-8 included', () => {
  assert.deepEqual(field('a=1&payload=%7B%22x%22%3A%22%FF%22%7D+ok&b=2'), Buffer.from([...Buffer.from('{"x":"'), 0xff, ...Buffer.from('"} ok')]));
  assert.notDeepEqual(field('payload=%FF'), field('payload=%FE'), 'two invalid bytes stay two different bytes');
  assert.equal(field('p%61yload=x&payload=y')?.toString(), 'x', 'the first field of that name, its name decoded too');
  assert.equal(field('payload')?.length, 0);
  assert.equal(field('payload=%zz%4')?.toString(), '%zz%4', 'a % without two hex digits stays');
  assert.equal(field('other=1'), null);
  assert.equal(field(''), null);
});

test('raw JSON after a leading payload= is taken as is, & and + included', () => {
  const raw = 'payload={"message": "a+b & c%20d"}';
  assert.equal(field(raw)?.toString(), '{"message": "a+b & c%20d"}');
  assert.equal(field('payload= \n{"a":1}')?.toString(), ' \n{"a":1}');
});

test('for valid text, the field reads as URLSearchParams reads it', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (value, other) => {
      const body = new URLSearchParams([['x', other], ['payload', value]]).toString();
      assert.equal(field(body)?.toString('utf8'), new URLSearchParams(body).get('payload'));
    }),
    { numRuns: 300 },
  );
});
