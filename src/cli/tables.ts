import { escapeControls as e } from '../lib/escape-controls.js';
import type { Job } from '../store/store.js';
import type { ReleasesReport } from '../runner/releases-view.js';

/**
 * Tables for the terminal. Every cell is escaped (lib/escape-controls.ts): refs, reasons and
 * failure messages come from pushes, builds and remotes. The last column is not padded.
 */
export function table(head: string[], rows: string[][]): string[] {
  const cells = [head, ...rows.map((r) => r.map((c) => e(c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** `2026-11-22 03:15:00` (UTC, as stored) from an ISO time. */
export function shortTime(iso: string | null): string {
  return iso ? iso.slice(0, 19).replace('T', ' ') : '-';
}

/** `450ms`, `12.3s`, `4m05s`, `1h02m`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A job's run time: start to end, or to now while it runs; `-` before it started. */
export function jobDuration(j: Job, now = Date.now()): string {
  if (!j.started_at) return '-';
  const end = j.finished_at ? Date.parse(j.finished_at) : now;
  const d = duration(end - Date.parse(j.started_at));
  return j.finished_at ? d : `${d}+`;
}

export function jobsTable(jobs: Job[]): string[] {
  return table(
    ['ID', 'REPO', 'KIND', 'STATE', 'FAILURE', 'TRIGGER', 'REF', 'SHA', 'CREATED (UTC)', 'TOOK', 'REASON'],
    jobs.map((j) => [
      String(j.id),
      j.repo,
      j.kind,
      j.state,
      j.failure ?? '-',
      j.trigger,
      j.ref ?? (j.kind === 'deploy' ? '(default)' : '-'),
      j.target_sha ? j.target_sha.slice(0, 7) : '-',
      shortTime(j.created_at),
      jobDuration(j),
      j.reason ?? '',
    ]),
  );
}

/** `#12 deploy main 1a2b3c4 (webhook, running 4.2s)`: a running or queued job in `status`. */
export function activeJob(j: Job, now = Date.now()): string {
  const sha = j.target_sha ? ` ${j.target_sha.slice(0, 7)}` : '';
  const to = j.kind === 'rollback' && typeof j.params?.to === 'string' ? ` to ${j.params.to}` : '';
  const what = j.kind === 'deploy' ? ` ${j.ref ?? '(default branch)'}${sha}` : to;
  const since = j.state === 'running' ? `running ${jobDuration(j, now)}` : `queued ${shortTime(j.created_at)}`;
  return e(`#${j.id} ${j.kind}${what} (${j.trigger}${j.force ? ', forced' : ''}, ${since})`);
}

export function releasesLines(r: ReleasesReport): string[] {
  const out = [`${e(r.repo)}: ${r.deploy_path === null ? 'no deploy: section' : `current ${r.current ?? '(none)'} in ${e(r.deploy_path)}`}`];
  if (r.releases.length === 0) out.push('  no releases');
  else {
    const rows = r.releases.map((x) => [x.current ? '*' : '', x.id, x.sha.slice(0, 7), x.state, x.known_good ? 'yes' : 'no', x.job_id === null ? '-' : String(x.job_id), shortTime(x.created_at)]);
    out.push(...table(['', 'RELEASE', 'SHA', 'STATE', 'GOOD', 'JOB', 'CREATED (UTC)'], rows).map((l) => `  ${l}`));
    out.push('  (* current; GOOD: passed its health check and probation, a rollback target)');
  }
  if (r.bad.length === 0) {
    out.push('no commits marked bad');
    return out;
  }
  out.push(`commits marked bad (not deployed again automatically; clear with: autopull unmark ${e(r.repo)} SHA):`);
  const rows = r.bad.map((b) => [b.sha, b.job_id === null ? '-' : String(b.job_id), shortTime(b.marked_at), b.reason]);
  out.push(...table(['SHA', 'JOB', 'MARKED (UTC)', 'REASON'], rows).map((l) => `  ${l}`));
  return out;
}
