import { AppError } from '../../lib/errors.js';
import { isZeroSha } from '../../lib/ids.js';
import { parsePayload, payloadBytes, pickString } from '../body.js';
import type { AuthResult, Provider, WebhookRequest } from '../provider.js';
import type { ParsedDelivery } from '../push-event.js';
import { hmacHex, safeEqual } from '../signature.js';
import { githubRepoIdentity, parseGithubLike } from './github.js';

/**
 * Gitea, Forgejo and Gogs: GitHub's vocabulary with their own headers. They sign the JSON
 * text with a bare hex HMAC-SHA256, also when the body is form-encoded (`payload=`), and send
 * the signature header with an empty value when their side has no secret: that fails here.
 */
export interface GiteaLikeOptions {
  id: 'gitea' | 'forgejo' | 'gogs';
  title: string;
  /** Header prefix: x-gitea, x-forgejo, x-gogs. */
  prefix: string;
  /** Signature headers in order of preference, lower-cased. */
  signatures: string[];
  /** Whether a deleted tag comes only as a `delete` event (Gogs); Gitea and Forgejo also send a push with a zero `after`. */
  tagDeletionOnlyByDeleteEvent: boolean;
}

function headerTitle(h: string): string {
  return h.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

export function giteaLike(o: GiteaLikeOptions): Provider {
  const eventHeader = `${o.prefix}-event`;
  return {
    id: o.id,
    title: o.title,
    detectedBy: 'headers',
    detect: (req) => req.headers[eventHeader] !== undefined,
    deliveryId: (req) => req.headers[`${o.prefix}-delivery`] ?? null,
    eventName: (req) => req.headers[eventHeader] ?? '',
    authenticate: (req, secret) => verifyJsonHmac(req, secret, o.signatures),
    parse(req): ParsedDelivery {
      const event = req.headers[eventHeader] ?? '';
      const body = parsePayload(req, { form: true });
      return parseGiteaLike(o, event, body);
    },
  };
}

/**
 * Hex HMAC-SHA256 of the JSON text's bytes as sent (for form bodies, the `payload` field's
 * value percent-decoded to bytes): never of decoded text, in which every invalid UTF-8 byte
 * would read as the same U+FFFD.
 */
export function verifyJsonHmac(req: WebhookRequest, secret: string, headers: string[]): AuthResult {
  const name = headers.find((h) => req.headers[h] !== undefined);
  if (name === undefined) return { ok: false, code: 'signature_missing', problem: `missing header ${headerTitle(headers[0] as string)}` };
  const given = (req.headers[name] as string).trim().toLowerCase();
  if (given === '') {
    return { ok: false, code: 'signature_mismatch', problem: `header ${headerTitle(name)} is empty (the hook on the sender has no secret set)` };
  }
  let signed: Buffer;
  try {
    signed = payloadBytes(req, { form: true }).bytes;
  } catch {
    // Not JSON nor form: verify over the raw bytes; parse answers 400/415 after that.
    signed = req.rawBody;
  }
  return safeEqual(given, hmacHex('sha256', secret, signed))
    ? { ok: true, method: 'hmac-sha256 (json)' }
    : { ok: false, code: 'signature_mismatch', problem: `${headerTitle(name)} does not match` };
}

function fullRef(short: string, refType: string | null): string {
  if (short.startsWith('refs/')) return short;
  return refType === 'tag' ? `refs/tags/${short}` : `refs/heads/${short}`;
}

function parseGiteaLike(o: GiteaLikeOptions, event: string, body: Record<string, unknown>): ParsedDelivery {
  const repository = githubRepoIdentity(body);
  if (event === 'push') {
    const before = pickString(body, 'before');
    const after = pickString(body, 'after');
    // "Test Delivery" sends a fake push of the default branch head: before == after.
    if (before !== null && before === after) {
      return { kind: 'ping', provider: o.id, event, repository, note: `${o.title} test delivery (before equals after); pushes will be deployed` };
    }
  }
  if (event === 'delete') {
    const short = pickString(body, 'ref');
    const refType = pickString(body, 'ref_type');
    if (short === null) throw new AppError('no_push_data', 'delete payload has no "ref"');
    // A deleted branch (and with Gogs a deleted tag) is reported by this event only: keep it,
    // so the job list shows the deletion. Gitea and Forgejo also send a push for a deleted tag.
    if (refType === 'branch' || (refType === 'tag' && o.tagDeletionOnlyByDeleteEvent)) {
      if (repository === null) throw new AppError('no_push_data', 'delete payload has no "repository"');
      const pusher = pickString(body, 'sender', 'login') ?? pickString(body, 'sender', 'username');
      return { kind: 'push', provider: o.id, event, repository, pusher, updates: [{ ref: fullRef(short, refType), before: null, after: null, headCommit: null, deleted: true }] };
    }
  }
  const parsed = parseGithubLike(o.id, event, body);
  if (parsed.kind === 'push') {
    for (const u of parsed.updates) if (isZeroSha(u.after)) u.deleted = true;
  }
  return parsed;
}
