import { createHmac, timingSafeEqual } from 'node:crypto';

/** MACs of large bodies already computed, by body and key: POST /hooks checks one body against many repos, often with one secret. */
const macs = new WeakMap<Buffer, Map<string, string>>();

export function hmacHex(algorithm: 'sha1' | 'sha256', secret: string | Buffer, data: string | Buffer): string {
  if (typeof data === 'string' || data.length < 64 * 1024) return createHmac(algorithm, secret).update(data).digest('hex');
  let known = macs.get(data);
  if (known === undefined) macs.set(data, (known = new Map()));
  const key = `${algorithm}:${typeof secret === 'string' ? `s${secret}` : `b${secret.toString('base64')}`}`;
  let mac = known.get(key);
  if (mac === undefined) known.set(key, (mac = createHmac(algorithm, secret).update(data).digest('hex')));
  return mac;
}

/**
 * Constant-time string compare. Buffers of different lengths are unequal (timingSafeEqual
 * would throw); the length of a MAC is not a secret.
 */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Checks a `sha256=<hex>` / `sha1=<hex>` header value (hex in either case) over `data`. */
export function verifyPrefixedHmac(header: string, algorithm: 'sha1' | 'sha256', secret: string, data: Buffer | string): boolean {
  const prefix = `${algorithm}=`;
  if (!header.toLowerCase().startsWith(prefix)) return false;
  return safeEqual(header.slice(prefix.length).trim().toLowerCase(), hmacHex(algorithm, secret, data));
}
