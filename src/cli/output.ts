import type { Job, LogLine } from '../jobs/store.js';

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

export const FINAL = new Set(['succeeded', 'failed', 'skipped', 'interrupted', 'ignored']);
