import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { hookApp } from '../../test/helpers/hook-app.js';
import { fixture, giteaLikeDelivery } from '../../test/helpers/senders.js';
import { githubPush } from '../../test/helpers/github.js';
import { signStandardWebhook } from '../webhooks/standard-webhooks.js';

// Every HMAC covers the bytes the sender signed. Decoding them to text first turns each
// invalid UTF-8 byte into U+FFFD, so two different bodies would carry the same MAC.
const S = 'raw-bytes-secret-1';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = 1_714_000_000;

const CONFIG = `repos:
  gh: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv0 } }
  gitea: { url: 'http://localhost:3000/example/example.git', secret: ${S}, branches: [master], deploy: { path: ./srv1 } }
  forgejo: { url: 'https://codeberg.example/example/example.git', secret: ${S}, branches: [master], deploy: { path: ./srv2 } }
  gogs: { url: 'http://localhost:3000/unknwon/webhooks.git', secret: ${S}, branches: [develop], deploy: { path: ./srv3 } }
  generic: { url: 'https://git.example.com/acme/tool.git', secret: ${WHSEC}, branches: [main], deploy: { path: ./srv4 } }
`;

/** The payload's JSON with a string field holding one raw byte that is not UTF-8. */
function withByte(payload: object, byte: number): Buffer {
  const text = JSON.stringify(payload);
  return Buffer.concat([Buffer.from(`${text.slice(0, -1)},"note":"`), Buffer.from([byte]), Buffer.from('"}')]);
}

/** application/x-www-form-urlencoded of `payload=<bytes>` as Go's url.Values.Encode writes it (byte by byte). */
function formOf(bytes: Buffer): Buffer {
  let out = 'payload=';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : b === 0x20 ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return Buffer.from(out, 'latin1');
}

const hex = (data: Buffer) => createHmac('sha256', S).update(data).digest('hex');

for (const sender of ['gitea', 'forgejo', 'gogs'] as const) {
  for (const form of [false, true]) {
    test(`${sender} ${form ? 'form' : 'JSON'}: the signature covers the signed bytes; another invalid byte with the same decoded text is refused`, async (t) => {
      const f = await hookApp(t, CONFIG);
      const push = sender === 'gogs' ? fixture('gogs', 'push.json') : fixture('gitea', 'push.json');
      const signed = withByte(push, 0xff);
      const changed = withByte(push, 0xfe);
      assert.equal(signed.toString('utf8'), changed.toString('utf8'), 'both decode to the same text');
      const headers = { ...giteaLikeDelivery(sender, 'push', push, S, { form }).headers };
      for (const h of Object.keys(headers)) if (/^x-(gitea|gogs|forgejo)-signature$/.test(h)) headers[h] = hex(signed);
      // Without it the GitHub sender (X-GitHub-Event is sent too) would check its own header.
      delete headers['x-hub-signature-256'];
      const body = (b: Buffer) => (form ? formOf(b) : b);
      const ok = await f.send(`/hooks/${sender}`, { headers: { ...headers, [`x-${sender}-delivery`]: randomUUID() }, body: body(signed) });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.equal(f.store.listDeliveries({ limit: 1 })[0]?.provider, sender);
      const forged = await f.send(`/hooks/${sender}`, { headers: { ...headers, [`x-${sender}-delivery`]: randomUUID() }, body: body(changed) });
      assert.equal(forged.status, 403, JSON.stringify(forged.body));
      assert.equal(forged.body.error, 'signature_mismatch');
    });
  }
}

test('GitHub and Standard Webhooks: a MAC over a body with an invalid byte does not verify another such body', async (t) => {
  const f = await hookApp(t, CONFIG, { now: new Date(NOW * 1000) });
  const push = githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' });
  const [signed, changed] = [withByte(push, 0xff), withByte(push, 0xfe)];
  const gh = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hex(signed)}` };
  assert.equal((await f.send('/hooks/gh', { headers: { ...gh, 'x-github-delivery': 'a' }, body: signed })).status, 202);
  assert.equal((await f.send('/hooks/gh', { headers: { ...gh, 'x-github-delivery': 'b' }, body: changed })).status, 403);
  const generic = withByte(fixture('generic', 'standard-webhooks-push.json'), 0xff);
  const sw = (id: string) => ({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(NOW), 'webhook-signature': signStandardWebhook(WHSEC, id, NOW, generic) });
  assert.equal((await f.send('/hooks/generic', { headers: sw('m1'), body: generic })).status, 202);
  const other = withByte(fixture('generic', 'standard-webhooks-push.json'), 0xfe);
  assert.equal((await f.send('/hooks/generic', { headers: sw('m2'), body: other })).status, 403);
});
