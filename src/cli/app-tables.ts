import type { AppInstance, AppStatus } from '../deploy/app-status.js';
import { escapeControls as e } from '../lib/escape-controls.js';
import { duration, table } from './tables.js';

/** The supervised apps for the terminal: `autopull apps` (a row per instance) and a line in `status`. */

function up(seconds: number | null): string {
  return seconds === null ? '-' : duration(seconds * 1000);
}

function open(o: AppInstance['open']): string {
  if (!o) return '-';
  return `${o.requests} request${o.requests === 1 ? '' : 's'}, ${o.sockets} socket${o.sockets === 1 ? '' : 's'}`;
}

/** One row per instance (an app with none: one `stopped` row); `*` marks the one that serves. */
export function appsTable(apps: AppStatus[]): string[] {
  const rows: string[][] = [];
  for (const a of apps) {
    const cells = (i: AppInstance | null) => [
      i?.live ? '*' : '',
      a.repo,
      a.mode,
      a.listen ?? '-',
      i?.state ?? a.state,
      i?.release ?? '-',
      i?.pid === null || i === null ? '-' : String(i.pid),
      i?.port === null || i === null ? (a.port === null ? '-' : String(a.port)) : String(i.port),
      up(i?.uptime_seconds ?? null),
      i?.restarts === null || i === null ? '-' : String(i.restarts),
      a.mode === 'proxy' && i ? `${i.routed ? 'routed' : 'not routed'}, ${open(i.open)}` : '',
    ];
    if (a.instances.length === 0) rows.push(cells(null));
    for (const i of a.instances) rows.push(cells(i));
  }
  const out = table(['', 'REPO', 'MODE', 'LISTEN', 'STATE', 'RELEASE', 'PID', 'PORT', 'UP', 'RESTARTS', 'TRAFFIC'], rows);
  out.push('(* serves the traffic now)');
  for (const a of apps) if (a.note) out.push(`${e(a.repo)}: ${e(a.note)}`);
  return out;
}

/** `running: releases/X, pid 4242, port 3000, up 4m05s, 0 restarts` and, behind the proxy, the instances besides it. */
export function appLines(a: AppStatus): string[] {
  const main = a.instances.find((i) => i.routed || a.mode === 'port') ?? null;
  const what = (i: AppInstance) =>
    [i.release ? `releases/${i.release}` : null, i.pid === null ? null : `pid ${i.pid}`, i.port === null ? null : `port ${i.port}`, i.uptime_seconds === null ? null : `up ${up(i.uptime_seconds)}`, i.restarts === null ? null : `${i.restarts} restart${i.restarts === 1 ? '' : 's'}`]
      .filter((x) => x !== null)
      .join(', ');
  const where = a.mode === 'proxy' ? ` (behind the proxy on ${a.listen ?? '?'})` : '';
  const out = [`${a.state}${main && what(main) ? `: ${what(main)}` : ''}${where}`];
  for (const i of a.instances) if (i !== main) out.push(`${i.state}: ${what(i)}${i.open ? `, ${open(i.open)} open` : ''}`);
  if (a.note) out.push(`(${a.note})`);
  return out.map(e);
}
