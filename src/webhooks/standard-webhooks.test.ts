import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signStandardWebhook, verifyStandardWebhook } from './standard-webhooks.js';
import type { WebhookRequest } from './provider.js';

// The Standard Webhooks test vector (spec and reference libraries).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = new Date(TS * 1000);

function req(headers: Record<string, string>, body = BODY): WebhookRequest {
  return { headers, rawBody: Buffer.from(body), query: {}, remoteAddress: '127.0.0.1' };
}

test("the Standard Webhooks published vector signs and verifies", () => {
  assert.equal(signStandardWebhook(SECRET, ID, TS, BODY), SIG);
  const r = verifyStandardWebhook(req({ 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': SIG }), SECRET, AT);
  assert.deepEqual(r, { ok: true, method: 'standard-webhooks' });
});

test('any listed v1 signature counts (key rotation); v1a and junk entries are skipped', () => {
  const list = `v1a,xyz v1,Zm9vYmFy ${SIG}`;
  assert.equal(verifyStandardWebhook(req({ 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': list }), SECRET, AT).ok, true);
});

test('a timestamp more than 5 minutes away fails, 5 minutes exactly passes', () => {
  const h = { 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': SIG };
  assert.equal(verifyStandardWebhook(req(h), SECRET, new Date((TS + 300) * 1000)).ok, true);
  const late = verifyStandardWebhook(req(h), SECRET, new Date((TS + 301) * 1000));
  assert.equal(late.ok, false);
  assert.match(late.ok ? '' : late.problem, /301 s away/);
  assert.equal(verifyStandardWebhook(req(h), SECRET, new Date((TS - 301) * 1000)).ok, false);
});

test('a changed body, id or secret fails; missing headers are named; the expected MAC is never in the message', () => {
  const h = { 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': SIG };
  const body = verifyStandardWebhook(req(h, '{"test": 2432232315}'), SECRET, AT);
  assert.equal(body.ok, false);
  assert.equal(verifyStandardWebhook(req({ ...h, 'webhook-id': 'msg_other' }), SECRET, AT).ok, false);
  const wrong = verifyStandardWebhook(req(h), 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', AT);
  assert.equal(wrong.ok, false);
  assert.ok(!JSON.stringify(wrong).includes(signStandardWebhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ID, TS, BODY).slice(3)));
  const missing = verifyStandardWebhook(req({ 'webhook-signature': SIG }), SECRET, AT);
  assert.deepEqual(missing, { ok: false, code: 'signature_missing', problem: 'missing header webhook-id' });
  assert.equal(verifyStandardWebhook(req({}), SECRET, AT).ok, false);
});
