import { AppError } from '../lib/errors.js';
import { formField } from './form.js';
import type { WebhookRequest } from './provider.js';

/**
 * Reading a delivery's body. Parsing is the costly part of a delivery (a 1 MiB body of
 * small objects takes tens of ms), so the pipeline authenticates on the raw bytes or the
 * token first and parses after that, once: `parsePayload` memoises its result (or its
 * error) per request, and nothing else here parses. Detection by body shape uses
 * `bodyMentions`, a byte search.
 */

/** Media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: WebhookRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Whether the body is JSON by its content type (or, without one, by its first byte). */
export function isJsonBody(req: WebhookRequest): boolean {
  const type = mediaType(req);
  return type === 'application/json' || type.endsWith('+json') || (type === '' && looksLikeJson(req.rawBody));
}

export function isFormBody(req: WebhookRequest): boolean {
  return mediaType(req) === 'application/x-www-form-urlencoded';
}

/**
 * Whether the raw body contains `needle` (ASCII), for telling senders apart by body shape
 * without parsing; a hint only, which `Provider.confirm` checks on the parsed body. A needle
 * that starts with a common byte (`"`) makes the search several times slower.
 */
export function bodyMentions(req: WebhookRequest, needle: string): boolean {
  let bytes = needles.get(needle);
  if (bytes === undefined) needles.set(needle, (bytes = Buffer.from(needle, 'latin1')));
  return req.rawBody.includes(bytes);
}

/** A needle's bytes, made once: searching with a string converts it on every call. */
const needles = new Map<string, Buffer>();

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

interface Payload {
  /** The JSON text's bytes exactly as the sender wrote them (never decoded and re-encoded). */
  bytes: Buffer;
  form: boolean;
}

const payloads = new WeakMap<WebhookRequest, Payload | AppError>();
const parsed = new WeakMap<WebhookRequest, Record<string, unknown> | AppError>();

/**
 * The bytes of the JSON a delivery carries: the body itself, or the value of the `payload`
 * field of a form body, percent-decoded byte by byte (what Gitea, Forgejo and Gogs sign).
 * Throws 415 for other content types (and for forms unless `opts.form`), 400 for a form
 * without `payload=`. Memoised per request.
 */
export function payloadBytes(req: WebhookRequest, opts: { form: boolean }): Payload {
  const json = isJsonBody(req);
  const form = !json && isFormBody(req);
  if (!json && !(form && opts.form)) {
    const accepted = opts.form ? 'application/json or application/x-www-form-urlencoded' : 'application/json';
    throw new AppError('unsupported_media_type', `content type ${mediaType(req) || '(none)'} is not accepted here; send ${accepted}`);
  }
  let payload = payloads.get(req);
  if (payload === undefined) {
    const bytes = json ? req.rawBody : formField(req.rawBody, 'payload');
    payload = bytes === null ? new AppError('malformed_body', 'form body has no payload= field') : { bytes, form };
    payloads.set(req, payload);
  }
  if (payload instanceof AppError) throw payload;
  return payload;
}

/**
 * The JSON object a delivery carries, parsed at most once per request: the first call
 * parses (or fails with 400 `malformed_body`), later calls answer the same. Call it only
 * after the delivery authenticated.
 */
export function parsePayload(req: WebhookRequest, opts: { form: boolean }): Record<string, unknown> {
  const { bytes, form } = payloadBytes(req, opts);
  let result = parsed.get(req);
  if (result === undefined) {
    const what = form ? 'payload field' : 'body';
    try {
      const value = parseJsonText(bytes.toString('utf8'), what);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AppError('malformed_body', `${what} is JSON but not an object`);
      result = value as Record<string, unknown>;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      result = err;
    }
    parsed.set(req, result);
  }
  if (result instanceof AppError) throw result;
  return result;
}

/** What `parsePayload` returned for this request, or null when it has not run or failed. Never parses. */
export function parsedPayload(req: WebhookRequest): Record<string, unknown> | null {
  const result = parsed.get(req);
  return result === undefined || result instanceof AppError ? null : result;
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
