import { setTimeout as delay } from 'node:timers/promises';
import { connect } from 'node:net';
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

/** How long an app without a health check has to accept connections on its PORT behind the proxy. */
export const LISTEN_TIMEOUT_MS = 30_000;

/**
 * Resolves once 127.0.0.1:`port` accepts a TCP connection; throws after `timeoutMs`. Used
 * behind the proxy when a repo has no health check: routing to an instance that is up but not
 * yet listening would answer users 502. Connects start 10 ms apart and back off to 250 ms.
 */
export async function waitListening(port: number, signal: AbortSignal, timeoutMs = LISTEN_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gap = FIRST_PROBE_GAP_MS;
  let problem = 'no attempt yet';
  for (;;) {
    signal.throwIfAborted();
    const err = await connectOnce(port, Math.max(100, Math.min(deadline - Date.now(), 2000)));
    if (!err) return;
    problem = err;
    if (Date.now() + gap > deadline) throw new Error(`nothing listened on PORT ${port} within ${Math.round(timeoutMs / 1000)}s (${problem}); does the app read PORT?`);
    await delay(gap, undefined, { signal });
    gap = Math.min(gap * 2, 250);
  }
}

/** One TCP connect to 127.0.0.1:port: null when accepted, else what went wrong. */
function connectOnce(port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      resolve(`connect timed out after ${timeoutMs} ms`);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(null);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
