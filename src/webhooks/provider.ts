import type { ProviderId } from '../config/schema.js';
import type { ParsedDelivery } from './push-event.js';

/** A delivery as the pipeline sees it: no framework objects, headers lower-cased. */
export interface WebhookRequest {
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  query: Readonly<Record<string, string | undefined>>;
  remoteAddress: string;
}

export type AuthFailureCode = 'signature_missing' | 'signature_mismatch' | 'token_missing' | 'token_mismatch';

export type AuthResult =
  | { ok: true; method: string }
  /** `problem` names what is wrong without the repo ("missing header X-Hub-Signature-256"). */
  | { ok: false; code: AuthFailureCode; problem: string };

/**
 * One seam per sender. All functions are pure over the request: no I/O, no clock
 * (except where a sender signs a timestamp, which gets `now` passed in).
 *
 * Cost contract: the body is parsed only after `authenticate` passed, by `confirm` or
 * `parse`, through body.ts `parsePayload` (memoised per request, so once). `detect`,
 * `deliveryId`, `eventName` and `authenticate` never parse: they run for deliveries that
 * may be forged, and parsing a large body costs far more than checking a MAC over it.
 */
export interface Provider {
  id: ProviderId;
  /** Human-readable name for messages. */
  title: string;
  /**
   * What `detect` goes by: `headers` of the sender's own (an event header); `body`, a byte
   * search of the raw body (body.ts `bodyMentions`), for senders that send no header of their
   * own, which then have `confirm`; `credential`, only a credential the sender understands
   * (the generic sender). A delivery that a `headers` sender claims is not searched for
   * `body` senders: the search costs about as much as a MAC over the body.
   */
  detectedBy: 'headers' | 'body' | 'credential';
  /** Whether the request looks like this sender's (see `detectedBy`). */
  detect(req: WebhookRequest): boolean;
  /**
   * For senders detected by a byte search: whether the parsed body really is theirs. Runs
   * after `authenticate` passed. A body that does not parse counts as theirs, so that
   * `parse` reports what is wrong with it.
   */
  confirm?(req: WebhookRequest): boolean;
  /** The sender's own delivery id (stable across its retries), or null; one kept in the body is null until the body was parsed. */
  deliveryId(req: WebhookRequest): string | null;
  eventName(req: WebhookRequest): string;
  authenticate(req: WebhookRequest, secret: string, now: Date): AuthResult;
  /** Throws AppError (400 malformed_body / no_push_data, 415) on bad input. */
  parse(req: WebhookRequest): ParsedDelivery;
}
