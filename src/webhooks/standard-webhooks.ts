import { createHmac } from 'node:crypto';
import type { AuthResult, WebhookRequest } from './provider.js';
import { safeEqual } from './signature.js';

/** Reference libraries reject a timestamp further than this from the receiver's clock. */
export const TOLERANCE_SECONDS = 5 * 60;

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_<base64>` is base64-decoded (the
 * spec's form, also GitLab's signing token); any other secret is used as its UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signStandardWebhook(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/**
 * Verifies `webhook-id`, `webhook-timestamp`, `webhook-signature` (space-separated
 * `v1,<base64>` entries; any one matching is enough, so senders can rotate keys) over
 * `id.timestamp.body`, and that the timestamp is within 5 minutes of `now`.
 */
export function verifyStandardWebhook(req: WebhookRequest, secret: string, now: Date): AuthResult {
  const signature = req.headers['webhook-signature'];
  if (signature === undefined) return { ok: false, code: 'signature_missing', problem: 'missing header webhook-signature' };
  const id = req.headers['webhook-id'];
  if (id === undefined || id === '') return { ok: false, code: 'signature_missing', problem: 'missing header webhook-id' };
  const ts = req.headers['webhook-timestamp'];
  if (ts === undefined || ts === '') return { ok: false, code: 'signature_missing', problem: 'missing header webhook-timestamp' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, code: 'signature_mismatch', problem: `webhook-timestamp "${ts.slice(0, 40)}" is not a unix time in seconds` };
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - Number(ts));
  if (skew > TOLERANCE_SECONDS) {
    return { ok: false, code: 'signature_mismatch', problem: `webhook-timestamp ${ts} is ${skew} s away from this server's clock (more than ${TOLERANCE_SECONDS} s)` };
  }
  const expected = signStandardWebhook(secret, id, ts, req.rawBody);
  const given = signature.split(' ').filter((s) => s.startsWith('v1,'));
  if (given.length === 0) return { ok: false, code: 'signature_mismatch', problem: 'webhook-signature has no v1, entry' };
  // Compare every entry (no early exit), so timing says nothing about which one matched.
  let match = false;
  for (const g of given) match = safeEqual(g, expected) || match;
  return match ? { ok: true, method: 'standard-webhooks' } : { ok: false, code: 'signature_mismatch', problem: 'webhook-signature does not match' };
}
