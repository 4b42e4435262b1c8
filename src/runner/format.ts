import type { Job, LogLine } from '../store/store.js';
import type { MirrorStatus } from '../store/mirror-status.js';
import { escapeControls as e } from '../lib/escape-controls.js';

/** Everything here goes to a terminal: text that came from builds, apps or remotes is escaped. */

export function formatLogLine(l: Pick<LogLine, 'ts' | 'stream' | 'line'>): string {
  const time = l.ts.slice(11, 19);
  const line = e(l.line);
  switch (l.stream) {
    case 'step':
      return `${time} ==> ${line}`;
    case 'error':
      return `${time} !!! ${line}`;
    case 'info':
      return `${time}     ${line}`;
    default:
      return `${time}   | ${line}`;
  }
}

export function formatJob(j: Job): string {
  const sha = j.target_sha ? ` ${j.target_sha.slice(0, 7)}` : '';
  // A rollback or restart has no ref: its kind says what it was.
  const what = j.ref ?? (j.kind === 'deploy' ? '(default)' : j.kind);
  return `#${j.id} ${j.state} ${e(what)}${sha}${j.reason ? `: ${e(j.reason)}` : ''}`;
}


/** `ok https://github.com/acme/blog.git (last ok 2026-...)`, or the error and the next retry. */
export function formatMirror(m: MirrorStatus): string {
  const ok = m.last_success_at ? `last ok ${m.last_success_at}` : 'never ok';
  if (m.state === 'ok') return `ok ${e(m.target)} (${ok}: ${e(m.summary ?? '')})`;
  const retry = m.next_retry_at ? `; retry at ${m.next_retry_at}` : m.state === 'failed' ? '; retry queued' : '';
  return `${m.state.toUpperCase()} ${e(m.target)} (${ok}; ${m.failures > 0 ? `${m.failures} failure(s) in a row; ` : ''}${e(m.last_error ?? '')}${retry})`;
}
