import { AppError } from '../lib/errors.js';
import type { WebhookRequest } from './provider.js';

/** Media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: WebhookRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function parseJsonText(text: string, what = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const detail = (err as Error).message.replace(/^JSON\.parse: /, '');
    throw new AppError('malformed_body', `${what} is not valid JSON: ${detail}`);
  }
}

/** The JSON text of a delivery: the body itself, or the `payload` field of a form body. */
export function payloadText(req: WebhookRequest, opts: { form: boolean }): { text: string; form: boolean } {
  const type = mediaType(req);
  if (type === 'application/json' || type.endsWith('+json') || (type === '' && looksLikeJson(req.rawBody))) {
    return { text: req.rawBody.toString('utf8'), form: false };
  }
  if (opts.form && type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(req.rawBody.toString('utf8')).get('payload');
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
