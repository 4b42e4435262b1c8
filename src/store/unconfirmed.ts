import { isAcceptedFor } from './deliveries.js';
import type { DeliveryRecord } from './types.js';

/**
 * The deliveries recorded later (Store.recordDeliveryLater) whose write is not confirmed yet,
 * pending in the main thread or held by the writer thread, by sender and delivery id: a row
 * counts for Store.isDuplicate from its answer on, and the check costs one lookup however
 * many rows a flood has in flight.
 */
export class Unconfirmed {
  private readonly rows = new Map<string, DeliveryRecord[]>();

  add(r: DeliveryRecord): void {
    if (!mayCount(r)) return;
    const k = key(r.provider, r.delivery_id);
    const list = this.rows.get(k);
    if (list) list.push(r);
    else this.rows.set(k, [r]);
  }

  /** Forgets rows written (the ledger answers for them now) or lost. */
  settle(records: Iterable<DeliveryRecord>): void {
    for (const r of records) {
      if (!mayCount(r)) continue;
      const k = key(r.provider, r.delivery_id);
      const list = this.rows.get(k)?.filter((x) => x !== r);
      if (list && list.length > 0) this.rows.set(k, list);
      else this.rows.delete(k);
    }
  }

  /** Whether one of them is accepted for one of `repos` (deliveries.isAcceptedFor). */
  accepted(provider: string, deliveryId: string, repos: readonly string[]): boolean {
    return this.rows.get(key(provider, deliveryId))?.some((r) => isAcceptedFor(r, provider, deliveryId, repos)) === true;
  }
}

/** Only an accepted delivery (2xx, not itself a duplicate) makes a later one a duplicate: a flood of refusals is not kept here. */
const mayCount = (r: DeliveryRecord) => r.status_code >= 200 && r.status_code <= 299 && r.outcome !== 'duplicate';
const key = (provider: string | null, deliveryId: string) => `${provider ?? ''}\n${deliveryId}`;
