import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
interface Example {
  name: string;
  examples: Record<string, unknown>[];
}
const EXAMPLES = require('@octokit/webhooks-examples/api.github.com/index.json') as Example[];

function example(event: string, pick: (e: Record<string, unknown>) => boolean): Record<string, unknown> {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.find(pick);
  if (!found) throw new Error(`no ${event} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

export interface PushOptions {
  ref?: string;
  before?: string;
  after: string;
  /** The test's remote: written into every repository URL field. */
  cloneUrl: string;
  fullName?: string;
  deleted?: boolean;
}

/**
 * GitHub's own push example (a branch push from @octokit/webhooks-examples), rewritten only
 * where the test must point it at its own repository and commit.
 */
export function githubPush(o: PushOptions): Record<string, unknown> {
  const deleted = o.deleted ?? false;
  const p = example('push', (e) => (deleted ? e.deleted === true : typeof e.ref === 'string' && e.ref.startsWith('refs/heads/') && e.deleted === false));
  p.ref = o.ref ?? 'refs/heads/main';
  p.before = o.before ?? '0000000000000000000000000000000000000000';
  p.after = deleted ? '0000000000000000000000000000000000000000' : o.after;
  if (!deleted && p.head_commit && typeof p.head_commit === 'object') (p.head_commit as Record<string, unknown>).id = o.after;
  const repo = p.repository as Record<string, unknown>;
  repo.clone_url = o.cloneUrl;
  if (o.fullName) repo.full_name = o.fullName;
  return p;
}

export function githubPing(cloneUrl: string): Record<string, unknown> {
  const p = example('ping', () => true);
  if (p.repository && typeof p.repository === 'object') (p.repository as Record<string, unknown>).clone_url = cloneUrl;
  return p;
}

export function signGithub(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** A GitHub delivery as GitHub sends it: JSON (or form) body, event, delivery id, signature. */
export function githubDelivery(event: string, payload: unknown, secret: string | null, opts: { form?: boolean; id?: string } = {}): Delivery {
  const json = JSON.stringify(payload);
  const body = opts.form ? new URLSearchParams({ payload: json }).toString() : json;
  const headers: Record<string, string> = {
    'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': event,
    'x-github-delivery': opts.id ?? randomUUID(),
  };
  if (secret !== null) headers['x-hub-signature-256'] = signGithub(body, secret);
  return { headers, body };
}

export async function post(url: string, d: Delivery): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sends a signed GitHub push of `sha` on `ref` for a test project's remote to `/hooks/site`; returns the answer and its first job id. */
export async function deliverPush(url: string, p: { remote: string; secret: string }, sha: string, ref = 'refs/heads/main') {
  const res = await post(`${url}/hooks/site`, githubDelivery('push', githubPush({ ref, after: sha, cloneUrl: p.remote }), p.secret));
  return { ...res, job: ((res.body.jobs as number[] | undefined) ?? [])[0] as number };
}
