import { setTimeout as delay } from 'node:timers/promises';
import { isFinal } from '../../src/store/store.js';


export interface ApiJob {
  id: number;
  state: string;
  reason: string | null;
  target_sha: string | null;
  release: string | null;
  trigger: string;
  retry_of: number | null;
  failure?: string | null;
}

export async function api<T>(url: string, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  return (await res.json()) as T;
}

/**
 * Waits until `done` holds for the repo's jobs, checking the server's API every 50 ms
 * (bounded by `timeoutMs`): the condition is the event, not a fixed sleep.
 */
export async function waitForJobs(url: string, token: string, done: (jobs: ApiJob[]) => boolean, timeoutMs = 60_000): Promise<ApiJob[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { jobs } = await api<{ jobs: ApiJob[] }>(url, token, '/api/jobs?limit=200');
    if (done(jobs)) return jobs;
    if (Date.now() > until) throw new Error(`timed out; jobs: ${JSON.stringify(jobs)}`);
    await delay(50);
  }
}

export const allFinal = (jobs: ApiJob[]) => jobs.length > 0 && jobs.every((j) => isFinal(j.state));

export async function waitForJob(url: string, token: string, id: number, timeoutMs = 60_000): Promise<ApiJob> {
  const jobs = await waitForJobs(url, token, (js) => js.some((j) => j.id === id && isFinal(j.state)), timeoutMs);
  return jobs.find((j) => j.id === id) as ApiJob;
}

/** Waits until the job's log has a line matching `re` (checked every 50 ms, bounded). */
export async function waitForLog(url: string, token: string, id: number, re: RegExp, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { lines } = await api<{ lines: { line: string }[] }>(url, token, `/api/jobs/${id}/log`);
    if (lines.some((l) => re.test(l.line))) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${re} in job ${id}'s log`);
    await delay(50);
  }
}
