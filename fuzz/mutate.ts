import { gzipSync } from 'node:zlib';
import { signStandardWebhook } from '../src/webhooks/standard-webhooks.js';
import type { Rng } from './prng.js';
import { setHeader, withoutHeaders, type Built, type Sender } from './senders.js';

/**
 * Ways to spoil a delivery: its body (bytes, encodings, JSON shapes), its headers, its
 * credential. Each returns the changed delivery and a short name for the summary.
 */

export interface Mutated {
  how: string;
  built: Built;
}

const contentType = (b: Built) => b.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';

/** A JSON text with `extra` spliced in as the first member of its top-level object (or the text as is). */
function withFirstMember(body: Buffer, extra: string): Buffer {
  const open = body.indexOf('{');
  if (open === -1) return Buffer.concat([Buffer.from(`{${extra}}`), body]);
  return Buffer.concat([body.subarray(0, open + 1), Buffer.from(`${extra},`), body.subarray(open + 1)]);
}

function deep(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

type BodyMutation = (b: Built, rng: Rng) => Built;

export const BODY_MUTATIONS: Record<string, BodyMutation> = {
  truncate: (b, rng) => ({ ...b, body: b.body.subarray(0, rng.int(b.body.length)) }),
  'bit-flips': (b, rng) => {
    const body = Buffer.from(b.body);
    for (let i = 1 + rng.int(8); i > 0 && body.length > 0; i--) {
      const at = rng.int(body.length);
      body[at] = (body[at] as number) ^ (1 << rng.int(8));
    }
    return { ...b, body };
  },
  'invalid-utf8': (b, rng) => {
    const at = rng.int(b.body.length + 1);
    const bad = rng.pick([Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0x80, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]);
    return { ...b, body: Buffer.concat([b.body.subarray(0, at), bad, b.body.subarray(at)]) };
  },
  'nul-bytes': (b, rng) => {
    const at = rng.int(b.body.length + 1);
    return { ...b, body: Buffer.concat([b.body.subarray(0, at), Buffer.alloc(1 + rng.int(4)), b.body.subarray(at)]) };
  },
  utf16: (b, rng) => {
    const text = Buffer.from(b.body.toString('utf8'), 'utf16le');
    const body = rng.chance(0.5) ? Buffer.concat([Buffer.from([0xff, 0xfe]), text]) : text;
    return setHeader({ ...b, body }, 'content-type', `${contentType(b).split(';')[0]}; charset=utf-16`);
  },
  gzip: (b) => setHeader({ ...b, body: gzipSync(b.body) }, 'content-encoding', 'gzip'),
  'gzip-declared': (b) => setHeader(b, 'content-encoding', 'gzip'),
  'huge-number': (b, rng) => ({ ...b, body: withFirstMember(b.body, `"n":${rng.pick(['1e999999', '-1e-999999', '9'.repeat(400), '1.7976931348623157e309', '-0.0000000000000000000001e-400'])}`) }),
  'deep-nesting': (b, rng) => {
    const depth = rng.pick([100, 1_000, 10_000, 50_000]);
    const nested = rng.chance(0.5) ? deep(depth, '[', ']') : deep(depth, '{"a":', '}');
    return { ...b, body: withFirstMember(b.body, `"deep":${nested}`) };
  },
  'duplicate-keys': (b, rng) => ({ ...b, body: withFirstMember(b.body, rng.pick(['"ref":"refs/heads/evil"', '"repository":null', '"object_kind":"issue"', '"after":"0000000000000000000000000000000000000000"', '"subscriptionId":"00000000-0000-0000-0000-000000000000"', '"publisherId":"tfs","eventType":"git.push"'])) }),
  'not-an-object': (b, rng) => ({ ...b, body: Buffer.from(rng.pick(['[]', 'null', '"push"', '42', 'true', '[{"ref":"refs/heads/main"}]', '{}', '{"ref":{}}', '{"ref":["refs/heads/main"]}'])) }),
  'form-as-json': (b) => setHeader(b, 'content-type', contentType(b).includes('form') ? 'application/json' : 'application/x-www-form-urlencoded'),
  'raw-json-in-form': (b) => setHeader({ ...b, body: Buffer.concat([Buffer.from('payload='), b.body]) }, 'content-type', 'application/x-www-form-urlencoded'),
  'form-garbage': (b, rng) => setHeader({ ...b, body: Buffer.from(rng.pick(['payload=%', 'payload=%zz%7B', '&&&=&=', 'payload', '=payload', `payload=${'%7B'.repeat(5000)}`, 'a=1&payload=%7B%7D&payload=x'])) }, 'content-type', 'application/x-www-form-urlencoded'),
  'random-bytes': (b, rng) => ({ ...b, body: rng.bytes(rng.int(4096)) }),
  empty: (b) => ({ ...b, body: Buffer.alloc(0) }),
};

type HeaderMutation = (b: Built, rng: Rng) => Built;

/** Header names the fuzzer keeps as they are (its own marker). */
export const FUZZ_ID = 'x-fuzz-id';

function oddCase(name: string, rng: Rng): string {
  return rng.chance(0.5) ? name.toUpperCase() : [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('');
}

export const HEADER_MUTATIONS: Record<string, HeaderMutation> = {
  'wrong-case': (b, rng) => ({ ...b, headers: b.headers.map(([n, v]) => [n === FUZZ_ID ? n : oddCase(n, rng), v]) }),
  duplicated: (b, rng) => {
    const pick = rng.pick(b.headers.filter(([n]) => n !== FUZZ_ID));
    if (pick === undefined) return b;
    const value = rng.chance(0.5) ? pick[1] : `${pick[1]}x`;
    return { ...b, headers: [...b.headers, [pick[0], value]] };
  },
  oversized: (b, rng) => ({ ...b, headers: [...b.headers, ['x-padding', 'a'.repeat(17_000 + rng.int(30_000))]] }),
  'many-headers': (b, rng) => ({ ...b, headers: [...b.headers, ...Array.from({ length: 200 + rng.int(200) }, (_, i): [string, string] => [`x-h${i}`, 'v'])] }),
  'no-content-type': (b) => withoutHeaders(b, ['content-type']),
  'odd-content-type': (b, rng) => setHeader(b, 'content-type', rng.pick(['text/plain', 'application/json; charset=latin1', 'application/vnd.github+json', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16', '*/*', ';;;', 'application/json, text/plain'])),
  'long-values': (b, rng) => ({ ...b, headers: b.headers.map(([n, v]) => [n, n === FUZZ_ID ? v : v + 'z'.repeat(rng.int(2000))]) }),
  'event-swap': (b, rng) => ({ ...b, headers: b.headers.map(([n, v]) => [n, /event|event-key/i.test(n) ? rng.pick(['push', 'ping', 'Push Hook', 'System Hook', 'repo:push', 'diagnostics:ping', '', 'x'.repeat(300)]) : v]) }),
};

/** A credential that is certainly wrong for this sender's repo: the scheme right, the secret or the form not. */
export function badCredential(sender: Sender, b: Built, rng: Rng): Mutated {
  const wrong = `not-the-secret-${rng.hex(8)}`;
  // Every way but wrong-secret, truncated and stale starts from the delivery without its credential.
  const bare: Built = { ...withoutHeaders(b, sender.authHeaders), path: b.path.replace(/\?.*$/, '') };
  const ways: Record<string, () => Built> = {
    'wrong-secret': () => sender.sign(b, wrong),
    missing: () => bare,
    empty: () => {
      if (sender.authHeaders.length === 0) return { ...b, path: `${b.path.replace(/\?.*$/, '')}?token=` };
      return { ...b, headers: b.headers.map(([n, v]) => [n, sender.authHeaders.includes(n.toLowerCase()) ? '' : v]) };
    },
    truncated: () => {
      const right = sender.sign(b, sender.secret);
      if (sender.authHeaders.length === 0) return { ...right, path: right.path.slice(0, -1 - rng.int(4)) };
      // Basic auth: cut the password, not the base64 (dropping its padding would change nothing).
      if (sender.authHeaders.includes('authorization')) return setHeader(bare, 'authorization', `Basic ${Buffer.from(`azure:${sender.secret.slice(0, -1 - rng.int(4))}`).toString('base64')}`);
      return { ...right, headers: right.headers.map(([n, v]) => [n, sender.authHeaders.includes(n.toLowerCase()) && n.toLowerCase() !== 'webhook-id' && n.toLowerCase() !== 'webhook-timestamp' ? v.slice(0, Math.max(0, v.length - 1 - rng.int(10))) : v]) };
    },
    'sha1-wrong': () => setHeader(bare, 'x-hub-signature', `sha1=${rng.hex(40)}`),
    'hub-256-wrong': () => setHeader(bare, 'x-hub-signature-256', `SHA256=${rng.hex(64)}`),
    'gitea-wrong': () => setHeader(setHeader(bare, 'x-gitea-signature', rng.hex(64)), 'x-gogs-signature', rng.hex(rng.int(70))),
    'gitlab-token-wrong': () => setHeader(bare, 'x-gitlab-token', wrong),
    'autopull-token-wrong': () => setHeader(bare, 'x-autopull-token', wrong),
    'query-token-wrong': () => ({ ...bare, path: `${bare.path}?token=${wrong}` }),
    'basic-wrong': () => setHeader(bare, 'authorization', `Basic ${Buffer.from(`u:${wrong}`).toString('base64')}`),
    'basic-garbage': () => setHeader(bare, 'authorization', rng.pick(['Basic', 'Basic !!!', 'Basic Og==', 'Bearer x', `Basic ${'A'.repeat(5000)}`])),
    'standard-webhooks-wrong': () => {
      const id = `msg_${rng.hex(8)}`;
      const ts = String(Math.floor(Date.now() / 1000));
      return setHeader(setHeader(setHeader(bare, 'webhook-id', id), 'webhook-timestamp', ts), 'webhook-signature', `v1,${Buffer.from(rng.bytes(32)).toString('base64')}`);
    },
    'standard-webhooks-stale': () => {
      // The right key over the right bytes, but an hour old: a replay.
      return sender.provider === 'generic' ? staleSign(sender, b) : setHeader(setHeader(bare, 'webhook-timestamp', '1'), 'webhook-signature', 'v1,AAAA');
    },
  };
  const how = rng.pick(Object.keys(ways));
  return { how, built: (ways[how] as () => Built)() };
}

function staleSign(sender: Sender, b: Built): Built {
  const id = b.headers.find(([n]) => n === 'webhook-id')?.[1] ?? 'msg_fuzz';
  const ts = Math.floor(Date.now() / 1000) - 3600;
  return setHeader(setHeader(b, 'webhook-timestamp', String(ts)), 'webhook-signature', signStandardWebhook(sender.secret, id, ts, b.body));
}
