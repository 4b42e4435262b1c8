import type { DeliveryRecord } from '../store/store.js';

/** What is kept of a rejected delivery's body: enough to see what was sent, too little to fill the disk. */
export const REJECTED_BODY_LIMIT = 4 * 1024;
/** A rejected delivery keeps at most this many headers, in at most this many bytes (as stored, JSON). */
export const REJECTED_HEADER_COUNT = 50;
export const REJECTED_HEADER_BYTES = 4 * 1024;
/** Sender-chosen single fields (delivery id, event, repo from the URL) of a rejected delivery. */
const REJECTED_FIELD_LIMIT = 200;

/**
 * The ledger row of a rejected delivery, made small: anyone can send one, so each costs at
 * most ~9 KiB on disk however big the request (retention then bounds the number of rows).
 * The body is kept (its first REJECTED_BODY_LIMIT bytes) only when the delivery was checked
 * against a configured repo (`repoKnown`): a request for an unknown repo, or one no repo's
 * secret could be tried on, keeps none. Headers are kept in the order sent while they fit
 * the count and byte budget; one that does not fit is dropped. `body_truncated` is set when
 * anything was cut (body or headers): such a row is not stored whole and is never redelivered.
 */
export function capRejected(record: DeliveryRecord, repoKnown: boolean): DeliveryRecord {
  const body = repoKnown ? record.body.subarray(0, REJECTED_BODY_LIMIT) : Buffer.alloc(0);
  const headers = capHeaders(record.headers);
  return {
    ...record,
    delivery_id: clip(record.delivery_id),
    event: record.event === null ? null : clip(record.event),
    repo: record.repo === null ? null : clip(record.repo),
    headers: headers.kept,
    body,
    body_truncated: record.body_truncated || body.length < record.body.length || headers.dropped > 0,
  };
}

function capHeaders(headers: Record<string, string>): { kept: Record<string, string>; dropped: number } {
  const kept: Record<string, string> = {};
  let count = 0;
  let bytes = 2; // {}
  let dropped = 0;
  for (const [name, value] of Object.entries(headers)) {
    // What this entry adds to the stored JSON: "name":"value" and a comma.
    const size = Buffer.byteLength(JSON.stringify(name)) + Buffer.byteLength(JSON.stringify(value)) + 2;
    if (count >= REJECTED_HEADER_COUNT || bytes + size > REJECTED_HEADER_BYTES) {
      dropped++;
      continue;
    }
    kept[name] = value;
    count++;
    bytes += size;
  }
  return { kept, dropped };
}

function clip(s: string): string {
  return s.length > REJECTED_FIELD_LIMIT ? `${s.slice(0, REJECTED_FIELD_LIMIT)}…` : s;
}

/** The row to store for a decision: whole when accepted, capped (capRejected) when rejected. */
export function ledgerRecord(decision: { ok: boolean; repos: readonly string[] }, record: DeliveryRecord): DeliveryRecord {
  return decision.ok ? record : capRejected(record, decision.repos.length > 0);
}
