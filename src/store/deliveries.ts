import type { Db, Row } from './db.js';
import type { Delivery, DeliveryRecord } from './types.js';

/**
 * Table `deliveries`: every request to /hooks, accepted or not. Its jobs are read from
 * job_deliveries (the one copy of that relation) in the same query.
 */
const COLUMNS = `*, (SELECT json_group_array(job_id) FROM (SELECT job_id FROM job_deliveries WHERE delivery = deliveries.id ORDER BY job_id)) AS jobs`;

export function insertDelivery(db: Db, d: DeliveryRecord): number {
  // Positional parameters: binding by name costs a lookup per column, on every delivery.
  const { lastInsertRowid } = db
    .sql(
      `INSERT INTO deliveries (delivery_id, provider, event, repo, received_at, remote_addr, status_code, outcome, message, headers, body, body_truncated, redelivery_of)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(d.delivery_id, d.provider, d.event, d.repo, d.received_at, d.remote_addr, d.status_code, d.outcome, d.message, JSON.stringify(d.headers), d.body, d.body_truncated ? 1 : 0, d.redelivery_of ?? null);
  return Number(lastInsertRowid);
}

/**
 * Whether a sender's delivery id was already accepted (2xx, not itself a duplicate) for
 * one of `repos`. The ledger's `repo` lists the repos that authenticated the delivery.
 */
export function isDuplicate(db: Db, provider: string, deliveryId: string, repos: readonly string[]): boolean {
  // Per repo: a sender trusted by repo A must not be able to burn repo B's future ids. An
  // exact match in the comma-separated list: LIKE would read `_` in a name as a wildcard.
  const stmt = db.sql(
    `SELECT 1 FROM deliveries WHERE provider = ? AND delivery_id = ? AND status_code BETWEEN 200 AND 299 AND outcome != 'duplicate'
     AND instr(',' || COALESCE(repo, '') || ',', ',' || ? || ',') > 0 LIMIT 1`,
  );
  return repos.some((repo) => stmt.get(provider, deliveryId, repo) !== undefined);
}

/** isDuplicate for a delivery not written yet: accepted (2xx, not a duplicate) for one of `repos`. */
export function isAcceptedFor(d: DeliveryRecord, provider: string, deliveryId: string, repos: readonly string[]): boolean {
  if (d.provider !== provider || d.delivery_id !== deliveryId || d.status_code < 200 || d.status_code > 299 || d.outcome === 'duplicate') return false;
  const listed = (d.repo ?? '').split(',');
  return repos.some((repo) => listed.includes(repo));
}

export function listDeliveries(db: Db, opts: { repo?: string; limit?: number } = {}): Delivery[] {
  const rows = db.sql(`SELECT ${COLUMNS} FROM deliveries WHERE (@repo IS NULL OR repo = @repo) ORDER BY id DESC LIMIT @limit`).all({ repo: opts.repo ?? null, limit: opts.limit ?? 50 }) as Row[];
  return rows.map(toDelivery);
}

export function getDelivery(db: Db, id: number): Delivery | null {
  const row = db.sql(`SELECT ${COLUMNS} FROM deliveries WHERE id = ?`).get(id) as Row | undefined;
  return row ? toDelivery(row) : null;
}

function toDelivery(row: Row): Delivery {
  return {
    ...(row as unknown as Delivery),
    headers: JSON.parse(row.headers as string) as Record<string, string>,
    body_truncated: row.body_truncated === 1,
    jobs: JSON.parse(row.jobs as string) as number[],
  };
}

/** A delivery's sender, answer and arrival, without its headers and body (read per delivery by the metrics). */
export function deliveryMeta(db: Db, id: number): { provider: string | null; status_code: number; received_at: string } | null {
  return (db.sql(`SELECT provider, status_code, received_at FROM deliveries WHERE id = ?`).get(id) as { provider: string | null; status_code: number; received_at: string } | undefined) ?? null;
}

/** When the earliest delivery that a job covers arrived (ISO time), or null when no delivery queued it. */
export function firstDeliveryAt(db: Db, jobId: number): string | null {
  const row = db.sql(`SELECT MIN(d.received_at) AS at FROM job_deliveries jd JOIN deliveries d ON d.id = jd.delivery WHERE jd.job_id = ?`).get(jobId) as { at: string | null } | undefined;
  return row?.at ?? null;
}

/**
 * The push-to-live time of a repo's last deploy that a delivery queued (as the
 * autopull_push_to_live_seconds metric measures it): from the first delivery of the push
 * received to the job's end with its release live and healthy. Null when there is none.
 */
export function lastPushToLive(db: Db, repo: string): { job: number; seconds: number } | null {
  const row = db
    .sql(
      `SELECT j.id AS job, j.finished_at AS finished_at,
         (SELECT MIN(d.received_at) FROM job_deliveries jd JOIN deliveries d ON d.id = jd.delivery WHERE jd.job_id = j.id) AS received_at
       FROM jobs j
       WHERE j.repo = ? AND j.kind = 'deploy' AND j.state = 'succeeded' AND j.release IS NOT NULL
         AND EXISTS (SELECT 1 FROM job_deliveries jd WHERE jd.job_id = j.id)
       ORDER BY j.id DESC LIMIT 1`,
    )
    .get(repo) as { job: number; finished_at: string | null; received_at: string | null } | undefined;
  if (!row || row.finished_at === null || row.received_at === null) return null;
  const seconds = (Date.parse(row.finished_at) - Date.parse(row.received_at)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? { job: row.job, seconds } : null;
}
