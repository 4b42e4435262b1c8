import { html, type SafeHtml } from './html.js';

/** Small pieces the pages share: times, states as badges, short shas. */

/** "3 min ago" for an ISO time, with the exact time kept in <time datetime>. */
export function ago(iso: string | null | undefined, now: Date): SafeHtml {
  if (!iso) return html`<span class="muted">never</span>`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return html`${iso}`;
  return html`<time datetime="${iso}" title="${iso}">${relative(now.getTime() - t)}</time>`;
}

export function relative(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/** Between two ISO times, as "1.2 s" or "3 min 4 s"; "" when either is missing. */
export function between(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!(ms >= 0)) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A number of seconds as "2.4 s", "45 s" or "1 min 3 s". */
export function seconds(s: number): string {
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const STATE_CLASS: Record<string, string> = {
  succeeded: 'ok',
  ok: 'ok',
  running: 'run',
  live: 'ok',
  queued: 'wait',
  failed: 'bad',
  crashed: 'bad',
  diverged: 'warn',
  interrupted: 'warn',
  skipped: 'idle',
  ignored: 'idle',
};

/** A state as a badge; the word is always shown, the colour only adds to it. */
export function badge(state: string): SafeHtml {
  return html`<span class="badge b-${STATE_CLASS[state] ?? 'idle'}" data-state="${state}">${state}</span>`;
}

/** A delivery's answer code as a badge: 2xx ok, 4xx refused, 5xx ours. */
export function codeBadge(code: number): SafeHtml {
  const cls = code >= 500 ? 'bad' : code >= 400 ? 'warn' : code === 202 ? 'ok' : 'idle';
  return html`<span class="badge b-${cls}">${code}</span>`;
}

export function sha(s: string | null | undefined): SafeHtml {
  return s ? html`<code title="${s}">${s.slice(0, 7)}</code>` : html`<span class="muted">none</span>`;
}
