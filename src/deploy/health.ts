import { setTimeout as delay } from 'node:timers/promises';
import type { RepoConfig } from '../config/load.js';

/**
 * Health checks: an HTTP GET that must answer 2xx. `waitHealthy` polls until the first 2xx
 * or the deadline; `watchHealthy` polls for a whole window and fails at the first miss.
 */
export interface HealthTarget {
  url: string;
  timeoutMs: number;
  intervalMs: number;
}

export type Probe = { ok: true; status: number } | { ok: false; problem: string };

/** Resolves `/healthz` against the app's port; absolute URLs are used as they are. */
export function healthUrl(url: string, port: number | undefined): string | null {
  if (/^https?:\/\//i.test(url)) return url;
  if (port === undefined) return null;
  return `http://127.0.0.1:${port}${url.startsWith('/') ? '' : '/'}${url}`;
}

export async function probe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<Probe> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true, status: res.status } : { ok: false, problem: `GET ${url} answered ${res.status}` };
  } catch (err) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const c = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = c?.code ?? c?.message;
    return { ok: false, problem: timeout.aborted ? `GET ${url} did not answer within ${timeoutMs} ms` : `GET ${url} failed: ${cause ?? (err as Error).message}` };
  }
}

/** The first wait between probes; it doubles up to the configured interval. */
const FIRST_PROBE_GAP_MS = 10;

/**
 * Polls until healthy; throws with the last problem when `timeoutMs` passes first. The probes
 * start 10 ms apart and back off to `intervalMs`: an app up in 200 ms is seen within ~10% of
 * that, not up to a whole interval later (push-to-live), and a slow one is not hammered.
 */
export async function waitHealthy(t: HealthTarget, signal: AbortSignal, onProbe?: (p: Probe) => void): Promise<void> {
  const deadline = Date.now() + t.timeoutMs;
  let last: Probe = { ok: false, problem: 'no probe yet' };
  let gap = Math.min(FIRST_PROBE_GAP_MS, t.intervalMs);
  for (;;) {
    const left = deadline - Date.now();
    last = await probe(t.url, Math.max(100, Math.min(left, 10_000)), signal);
    onProbe?.(last);
    if (last.ok) return;
    if (Date.now() + gap > deadline) throw new Error(`not healthy within ${Math.round(t.timeoutMs / 1000)}s: ${last.problem}`);
    await delay(gap, undefined, { signal });
    gap = Math.min(gap * 2, t.intervalMs);
  }
}

/** Probes every `intervalMs` for `windowMs`; throws at the first failed probe. */
export async function watchHealthy(t: HealthTarget, windowMs: number, signal: AbortSignal): Promise<number> {
  const end = Date.now() + windowMs;
  let probes = 0;
  while (Date.now() < end) {
    await delay(Math.min(t.intervalMs, Math.max(0, end - Date.now())), undefined, { signal });
    const p = await probe(t.url, Math.min(t.timeoutMs, 10_000), signal);
    probes++;
    if (!p.ok) throw new Error(`failed its health check in probation: ${p.problem}`);
  }
  return probes;
}

/** The repo's health check on its app's port, or null when it has none. */
export function healthTarget(ctx: { repo: RepoConfig }): HealthTarget | null {
  const d = ctx.repo.deploy;
  if (!d?.health) return null;
  const url = healthUrl(d.health.url, d.port);
  return url ? { url, timeoutMs: d.health.timeout, intervalMs: d.health.interval } : null;
}
