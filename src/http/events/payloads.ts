import type { Delivery, Job, LogLine } from '../../store/store.js';

/** What an event says about a job: its row without the owner's process details. */
export function jobEvent(job: Job) {
  return {
    id: job.id,
    repo: job.repo,
    kind: job.kind,
    state: job.state,
    ref: job.ref,
    trigger: job.trigger,
    target_sha: job.target_sha,
    release: job.release,
    reason: job.reason,
    failure: job.failure,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    deliveries: job.deliveries,
  };
}

/** What an event says about a delivery: the ledger row without its headers and body. */
export function deliveryEvent(d: Delivery) {
  return {
    id: d.id,
    delivery_id: d.delivery_id,
    provider: d.provider,
    event: d.event,
    repo: d.repo,
    received_at: d.received_at,
    status_code: d.status_code,
    outcome: d.outcome,
    message: d.message,
    jobs: d.jobs,
  };
}

export function logEvent(l: LogLine) {
  return { seq: l.seq, ts: l.ts, stream: l.stream, line: l.line };
}
