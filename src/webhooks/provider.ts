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
 */
export interface Provider {
  id: ProviderId;
  /** Human-readable name for messages. */
  title: string;
  /** Whether the headers/body look like this sender's. Called in registry order. */
  detect(req: WebhookRequest): boolean;
  /** The sender's own delivery id (stable across its retries), or null. */
  deliveryId(req: WebhookRequest): string | null;
  eventName(req: WebhookRequest): string;
  authenticate(req: WebhookRequest, secret: string, now: Date): AuthResult;
  /** Throws AppError (400 malformed_body / no_push_data, 415) on bad input. */
  parse(req: WebhookRequest): ParsedDelivery;
}
