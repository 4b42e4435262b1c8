import type { Job, LogLine } from '../store/store.js';
import type { MirrorStatus } from '../store/mirror-status.js';

export function formatLogLine(l: Pick<LogLine, 'ts' | 'stream' | 'line'>): string {
  const time = l.ts.slice(11, 19);
  switch (l.stream) {
    case 'step':
      return `${time} ==> ${l.line}`;
    case 'error':
      return `${time} !!! ${l.line}`;
    case 'info':
      return `${time}     ${l.line}`;
    default:
      return `${time}   | ${l.line}`;
  }
}

export function formatJob(j: Job): string {
  const sha = j.target_sha ? ` ${j.target_sha.slice(0, 7)}` : '';
  return `#${j.id} ${j.state} ${j.ref ?? '(default)'}${sha}${j.reason ? `: ${j.reason}` : ''}`;
}


/** `ok https://github.com/acme/blog.git (last ok 2026-...)`, or the error and the next retry. */
export function formatMirror(m: MirrorStatus): string {
  const ok = m.last_success_at ? `last ok ${m.last_success_at}` : 'never ok';
  if (m.state === 'ok') return `ok ${m.target} (${ok}: ${m.summary ?? ''})`;
  const retry = m.next_retry_at ? `; retry at ${m.next_retry_at}` : m.state === 'failed' ? '; retry queued' : '';
  return `${m.state.toUpperCase()} ${m.target} (${ok}; ${m.failures > 0 ? `${m.failures} failure(s) in a row; ` : ''}${m.last_error ?? ''}${retry})`;
}
