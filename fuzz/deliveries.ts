import { formField } from '../src/webhooks/form.js';
import { Rng } from './prng.js';
import { BODY_MUTATIONS, FUZZ_ID, HEADER_MUTATIONS, badCredential } from './mutate.js';
import { KINDS, SENDERS, type Built, type Sender } from './senders.js';

/**
 * One generated delivery, made from (seed, index) alone. `auth: false` means the credential
 * is certainly wrong for the bytes the server reads: such a delivery must never make a job.
 * `mustQueue` marks a clean, rightly signed push to a tracked branch: it must be answered 202
 * (or 429 while rate limited).
 */
export interface Request {
  fuzzId: string;
  built: Built;
  auth: boolean;
}

export type Wire = 'http' | 'chunked' | 'pipeline' | 'cl-short' | 'cl-long-close' | 'close-in-headers' | 'close-in-body' | 'garbage' | 'te-and-cl' | 'no-host' | 'http10';

export interface Plan {
  index: number;
  sender: string;
  category: string;
  wire: Wire;
  requests: Request[];
  mustQueue: boolean;
}

export interface PlanContext {
  remotes: string;
  bodyLimit: number;
}

const CATEGORIES = { valid: 30, 'bad-auth': 25, body: 15, resigned: 10, headers: 10, size: 5, wire: 5 } as const;
const WIRES: readonly Wire[] = ['chunked', 'pipeline', 'cl-short', 'cl-long-close', 'close-in-headers', 'close-in-body', 'garbage', 'te-and-cl', 'no-host', 'http10'];

function isForm(b: Built): boolean {
  return b.headers.some(([n, v]) => n.toLowerCase() === 'content-type' && v.startsWith('application/x-www-form-urlencoded'));
}

/** The bytes a sender's MAC covers: the body, or for Gitea-like form bodies the payload field. */
function signedBytes(sender: Sender, b: Built): Buffer {
  if (['gitea', 'forgejo', 'gogs'].includes(sender.provider) && isForm(b)) return formField(b.body, 'payload') ?? b.body;
  return b.body;
}

/** Whether a body change leaves the credential valid: always for token senders, else only if the signed bytes are the same. */
function stillAuthentic(sender: Sender, before: Built, after: Built): boolean {
  return !sender.bodySigned || signedBytes(sender, before).equals(signedBytes(sender, after));
}

function oneDelivery(rng: Rng, ctx: PlanContext, fuzzId: string, category: string): { built: Built; auth: boolean; how: string; sender: Sender; clean: boolean } {
  const sender = rng.pick(SENDERS);
  const kind = rng.pick(KINDS);
  const valid = sender.build(rng, kind, { sha: rng.hex(40), id: `fuzz-${fuzzId}-${rng.hex(8)}`, any: rng.chance(0.5), remotes: ctx.remotes });
  const built: Built = { ...valid, headers: [[FUZZ_ID, fuzzId], ...valid.headers] };
  const tracked = kind === 'push';
  switch (category) {
    case 'bad-auth': {
      const m = badCredential(sender, built, rng);
      return { built: m.built, auth: false, how: m.how, sender, clean: false };
    }
    case 'body':
    case 'resigned': {
      const how = rng.pick(Object.keys(BODY_MUTATIONS));
      let after = (BODY_MUTATIONS[how] as (b: Built, r: Rng) => Built)(built, rng);
      if (category === 'resigned') after = sender.sign(after, sender.secret);
      return { built: after, auth: category === 'resigned' || stillAuthentic(sender, built, after), how, sender, clean: false };
    }
    case 'headers': {
      const how = rng.pick(Object.keys(HEADER_MUTATIONS));
      return { built: (HEADER_MUTATIONS[how] as (b: Built, r: Rng) => Built)(built, rng), auth: true, how, sender, clean: false };
    }
    case 'size': {
      const how = rng.pick(['over-limit', 'near-limit', 'empty', 'one-byte']);
      const pad = how === 'over-limit' ? ctx.bodyLimit + 1 + rng.int(64 * 1024) : how === 'near-limit' ? ctx.bodyLimit - 2048 - built.body.length : 0;
      let body = built.body;
      if (how === 'empty') body = Buffer.alloc(0);
      else if (how === 'one-byte') body = Buffer.from(rng.pick(['{', ' ', '0', '\n']));
      else body = Buffer.concat([Buffer.from(`{"pad":"${'p'.repeat(Math.max(0, pad))}",`), built.body.subarray(built.body.indexOf('{') + 1)]);
      const signed = sender.sign({ ...built, body }, sender.secret);
      return { built: signed, auth: true, how, sender, clean: false };
    }
    default:
      return { built, auth: true, how: kind, sender, clean: tracked };
  }
}

export function plan(seed: number, index: number, ctx: PlanContext): Plan {
  const rng = new Rng(seed, index);
  const category = rng.weighted(CATEGORIES);
  if (category !== 'wire') {
    const d = oneDelivery(rng, ctx, String(index), category);
    return { index, sender: d.sender.repo, category: `${category}:${d.how}`, wire: 'http', requests: [{ fuzzId: String(index), built: d.built, auth: d.auth }], mustQueue: d.clean && d.auth };
  }
  const wire = rng.pick(WIRES);
  const count = wire === 'pipeline' ? 2 + rng.int(3) : 1;
  const requests: Request[] = [];
  let sender = '';
  for (let k = 0; k < count; k++) {
    const d = oneDelivery(rng, ctx, `${index}.${k}`, rng.chance(0.7) ? 'valid' : 'bad-auth');
    sender ||= d.sender.repo;
    // Bytes the server will not read whole (a short Content-Length, a close) are not authentic.
    const whole = !['cl-short', 'cl-long-close', 'close-in-headers', 'close-in-body', 'garbage'].includes(wire);
    requests.push({ fuzzId: `${index}.${k}`, built: d.built, auth: d.auth && whole });
  }
  return { index, sender, category: `wire:${wire}`, wire, requests, mustQueue: false };
}
