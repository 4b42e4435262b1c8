import { AppError } from '../lib/errors.js';
import type { WebhookRequest } from './provider.js';

/** Media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: WebhookRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Parses JSON or throws 400 `malformed_body` naming the position ("body is not valid JSON
 * at position 12: ..."). The engine's own message may quote part of the text; that part is
 * dropped, so no byte of the body is echoed.
 */
export function parseJsonText(text: string, what = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const position = at ? Number(at[1]) : /end of JSON input/i.test(message) ? text.length : 0;
    const reason = message
      .replace(/^JSON\.parse: /, '')
      .replace(/,? ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    throw new AppError('malformed_body', `${what} is not valid JSON at position ${position}: ${reason}`);
  }
}

/** The JSON text of a delivery: the body itself, or the `payload` field of a form body. */
export function payloadText(req: WebhookRequest, opts: { form: boolean }): { text: string; form: boolean } {
  const type = mediaType(req);
  if (type === 'application/json' || type.endsWith('+json') || (type === '' && looksLikeJson(req.rawBody))) {
    return { text: req.rawBody.toString('utf8'), form: false };
  }
  if (opts.form && type === 'application/x-www-form-urlencoded') {
    const payload = formPayload(req.rawBody);
    if (payload === null) throw new AppError('malformed_body', 'form body has no payload= field');
    return { text: payload, form: true };
  }
  const accepted = opts.form ? 'application/json or application/x-www-form-urlencoded' : 'application/json';
  throw new AppError('unsupported_media_type', `content type ${type || '(none)'} is not accepted here; send ${accepted}`);
}

export function parsePayload(req: WebhookRequest, opts: { form: boolean }): Record<string, unknown> {
  const { text, form } = payloadText(req, opts);
  const value = parseJsonText(text, form ? 'payload field' : 'body');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('malformed_body', `${form ? 'payload field' : 'body'} is JSON but not an object`);
  }
  return value as Record<string, unknown>;
}

/** The `payload` field of a form body, or null. */
export function formPayload(body: Buffer): string | null {
  return new URLSearchParams(body.toString('utf8')).get('payload');
}

/**
 * The JSON object a delivery carries (body, or form `payload=`), or null when there is
 * none: for detection by body shape, which must never throw.
 */
export function peekJson(req: WebhookRequest): Record<string, unknown> | null {
  let text: string | null = null;
  const type = mediaType(req);
  if (type === 'application/x-www-form-urlencoded') text = formPayload(req.rawBody);
  else if (type === 'application/json' || type.endsWith('+json') || (type === '' && looksLikeJson(req.rawBody))) text = req.rawBody.toString('utf8');
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, Math.min(body.length, 64)).trimStart()[0];
  return first === '{';
}

/** Reads a nested value without trusting the payload's shape. */
export function pick(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function pickString(obj: unknown, ...path: string[]): string | null {
  const v = pick(obj, ...path);
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function pickArray(obj: unknown, ...path: string[]): unknown[] {
  const v = pick(obj, ...path);
  return Array.isArray(v) ? v : [];
}
