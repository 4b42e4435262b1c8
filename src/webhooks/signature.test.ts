import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hmacHex, safeEqual, verifyPrefixedHmac } from './signature.js';
import { verifyHubSignature } from './providers/github.js';

// GitHub's documented test vector ("Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';
const EXPECTED = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

test("GitHub's documented example signature verifies", () => {
  assert.equal(hmacHex('sha256', SECRET, BODY), EXPECTED);
  assert.equal(verifyPrefixedHmac(`sha256=${EXPECTED}`, 'sha256', SECRET, BODY), true);
  assert.equal(verifyPrefixedHmac(`sha256=${EXPECTED.toUpperCase()}`, 'sha256', SECRET, BODY), true);
  assert.equal(verifyPrefixedHmac(`sha256=${EXPECTED}`, 'sha256', 'wrong', BODY), false);
  assert.equal(verifyPrefixedHmac(EXPECTED, 'sha256', SECRET, BODY), false, 'the sha256= prefix is required');
});

test('safeEqual: unequal lengths are unequal, not a throw', () => {
  assert.equal(safeEqual('abc', 'abcd'), false);
  assert.equal(safeEqual('abc', 'abc'), true);
});

test('sha1 X-Hub-Signature counts only when no X-Hub-Signature-256 is sent', () => {
  const body = Buffer.from(BODY);
  const sha1 = `sha1=${hmacHex('sha1', SECRET, body)}`;
  const req = (headers: Record<string, string>) => ({ headers, rawBody: body, query: {}, remoteAddress: '127.0.0.1' });
  assert.deepEqual(verifyHubSignature(req({ 'x-hub-signature': sha1 }), SECRET), { ok: true, method: 'hmac-sha1' });
  const both = verifyHubSignature(req({ 'x-hub-signature': sha1, 'x-hub-signature-256': 'sha256=00' }), SECRET);
  assert.equal(both.ok, false);
  const empty = verifyHubSignature(req({ 'x-hub-signature-256': '' }), SECRET);
  assert.equal(empty.ok === false && empty.code, 'signature_mismatch');
  const none = verifyHubSignature(req({}), SECRET);
  assert.deepEqual(none, { ok: false, code: 'signature_missing', problem: 'missing header X-Hub-Signature-256' });
});
