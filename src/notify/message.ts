import type { NotifyEvent } from '../config/schema.js';
import { JOB_FAILURES } from '../lib/errors.js';
import type { Job } from '../store/types.js';
import type { TrackRow } from '../store/notify-state.js';
import type { MirrorStatus } from '../store/mirror-status.js';

/**
 * The message about one change: a JSON summary of the job (format json), or a
 * Slack-compatible `{text, blocks}` (format slack). Pure: the notifier gathers the values.
 */
export interface Summary {
  event: NotifyEvent;
  /** One line for people (plain text). */
  text: string;
  repo: string;
  kind: Job['kind'];
  job: number;
  /** The job's final state (a mirror event's job may have succeeded at its own work). */
  state: Job['state'];
  failure: string | null;
  failure_description: string | null;
  reason: string | null;
  ref: string | null;
  sha: string | null;
  release: string | null;
  trigger: Job['trigger'];
  started_at: string | null;
  finished_at: string | null;
  duration_seconds: number | null;
  /** From the first delivery of the push to the job's end, for a deploy a delivery started. */
  push_to_live_seconds: number | null;
  /** The state the track was in before (how long it failed, over how many jobs). */
  previous: { state: TrackRow['state']; since: string; jobs: number } | null;
  mirror: { target: string; state: MirrorStatus['state']; error: string | null; failures: number; last_success_at: string | null } | null;
  /** The job on this server's dashboard. */
  url: string;
  host: string;
  autopull_version: string;
}

export interface SummaryInput {
  event: NotifyEvent;
  job: Job;
  /** The ref the job deployed (a manual deploy without --ref takes the repo's first branch). */
  ref: string | null;
  previous: TrackRow | null;
  mirror?: MirrorStatus;
  firstDeliveryAt: string | null;
  url: string;
  host: string;
  version: string;
}

const MAX_TEXT = 1000;

function seconds(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? Math.round(s * 10) / 10 : null;
}

function clip(s: string | null): string | null {
  return s === null || s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT)}...`;
}

export function summarize(i: SummaryInput): Summary {
  const { job } = i;
  const isDeploy = job.kind === 'deploy' && job.state === 'succeeded' && !i.mirror;
  const summary: Summary = {
    event: i.event,
    text: '',
    repo: job.repo,
    kind: job.kind,
    job: job.id,
    state: job.state,
    failure: job.failure,
    failure_description: job.failure ? ((JOB_FAILURES as Record<string, string>)[job.failure] ?? null) : null,
    reason: clip(job.reason),
    ref: job.kind === 'deploy' ? i.ref : job.ref,
    sha: job.target_sha,
    release: job.release,
    trigger: job.trigger,
    started_at: job.started_at,
    finished_at: job.finished_at,
    duration_seconds: seconds(job.started_at, job.finished_at),
    push_to_live_seconds: isDeploy ? seconds(i.firstDeliveryAt, job.finished_at) : null,
    previous: i.previous ? { state: i.previous.state, since: i.previous.since, jobs: i.previous.jobs } : null,
    mirror: i.mirror
      ? { target: i.mirror.target, state: i.mirror.state, error: clip(i.mirror.last_error), failures: i.mirror.failures, last_success_at: i.mirror.last_success_at }
      : null,
    url: i.url,
    host: i.host,
    autopull_version: i.version,
  };
  summary.text = headline(summary, (s) => s);
  return summary;
}

function what(s: Summary, q: (s: string) => string): string {
  if (s.kind === 'rollback') return `rollback${s.release ? ` to ${s.release}` : ''}`;
  const ref = s.ref ? q(s.ref.replace(/^refs\/(heads|tags)\//, '')) : null;
  if (s.sha) return `deploy of ${s.sha.slice(0, 7)}${ref ? ` (${ref})` : ''}`;
  return ref ? `deploy of ${ref}` : 'deploy';
}

function failedFor(p: Summary['previous']): string {
  return p && p.state === 'failed' ? ` after ${p.jobs} failed job${p.jobs === 1 ? '' : 's'} since ${p.since}` : '';
}

/** The one-line story of the change; `q` quotes text that came from outside (builds, remotes). */
function headline(s: Summary, q: (s: string) => string): string {
  const took = s.duration_seconds !== null ? ` in ${s.duration_seconds}s` : '';
  const live = s.push_to_live_seconds !== null ? ` (push to live ${s.push_to_live_seconds}s)` : '';
  switch (s.event) {
    case 'success':
      return `${s.repo}: ${what(s, q)} is live${took}${live}`;
    case 'recovery':
      return `${s.repo}: recovered: ${what(s, q)} is live${took}${live}${failedFor(s.previous)}`;
    case 'failure':
      return `${s.repo}: ${what(s, q)} failed${s.failure ? ` (${s.failure})` : ''}: ${q(s.reason ?? 'no reason given')}; later failures in a row are not announced`;
    case 'mirror_failure':
      return `${s.repo}: mirror to ${q(s.mirror?.target ?? '?')} fails: ${q(s.mirror?.error ?? 'no reason given')}; retries run on their own, recovery is announced`;
    case 'mirror_recovery':
      return `${s.repo}: mirror to ${q(s.mirror?.target ?? '?')} works again${failedFor(s.previous)}`;
  }
}

/** Slack mrkdwn: &, < and > are the only characters to escape. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ICON: Record<NotifyEvent, string> = {
  success: ':white_check_mark:',
  recovery: ':white_check_mark:',
  failure: ':x:',
  mirror_failure: ':warning:',
  mirror_recovery: ':white_check_mark:',
};

export function slackMessage(s: Summary): { text: string; blocks: unknown[] } {
  const line = `${ICON[s.event]} ${headline({ ...s, repo: `*${slackEscape(s.repo)}*` }, slackEscape)}`;
  const link = `<${s.url}|job ${s.job}>`;
  return {
    text: `${line} ${link}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${line}\n${link}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(`${s.kind} job ${s.job} · ${s.trigger} · ${s.host} · autopull ${s.autopull_version}`) }] },
    ],
  };
}

export function messageBody(format: 'json' | 'slack', s: Summary): string {
  return JSON.stringify(format === 'slack' ? slackMessage(s) : s);
}
