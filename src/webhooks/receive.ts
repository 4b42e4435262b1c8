import type { Config, RepoConfig } from '../config/load.js';
import type { ProviderId } from '../config/schema.js';
import { AppError, type ErrorCode } from '../lib/errors.js';
import type { RepoName } from '../lib/ids.js';
import { refNameProblem } from '../vcs/ref-name.js';
import { ipAllowed } from './ip-allow.js';
import { describeTracked, tracksRef } from './match-ref.js';
import type { AuthResult, Provider, WebhookRequest } from './provider.js';
import { PROVIDERS } from './providers/index.js';
import { hintSha, type ParsedDelivery, type PushEvent, type RepoIdentity } from './push-event.js';
import { repoKey, urlEndsWithFullName } from './repo-url.js';
import { mirrorDecision } from '../mirror/webhook.js';
import type { JobKind, JobParams } from '../jobs/store.js';

/**
 * The webhook pipeline, for one delivery: find the repo, detect the sender, check the
 * allow-list, authenticate, drop duplicates, parse, match refs. It decides; it does not
 * write anything: the caller records the decision and enqueues in one transaction.
 * Knows nothing of any one sender (that is providers/) nor of HTTP frameworks.
 */

export interface EnqueueRequest {
  repo: RepoName;
  ref: string;
  hintSha: string | null;
  /** 'mirror' for a push that only a repo's mirrors care about; a target override in params. */
  kind?: JobKind;
  params?: JobParams;
}

export type OkStatus = 'queued' | 'ping' | 'ignored' | 'duplicate';

export interface Decision {
  status: number;
  ok: boolean;
  /** 'queued' | 'ping' | 'ignored' | 'duplicate' when ok, else the error code. */
  outcome: OkStatus | ErrorCode;
  message: string;
  provider: ProviderId | null;
  /** The sender's delivery id (null when it sends none). */
  deliveryId: string | null;
  event: string | null;
  repos: RepoName[];
  enqueue: EnqueueRequest[];
}

export interface ReceiveDeps {
  config: Config;
  now: Date;
  /** Whether this sender's delivery id was already accepted once. */
  isDuplicate(provider: ProviderId, deliveryId: string): boolean;
}

interface Partial {
  provider: Provider | null;
  repos: RepoName[];
}

function fail(code: ErrorCode, message: string, p: Partial, req: WebhookRequest): Decision {
  return {
    status: new AppError(code, message).status,
    ok: false,
    outcome: code,
    message,
    provider: p.provider?.id ?? null,
    deliveryId: p.provider?.deliveryId(req) ?? null,
    event: p.provider?.eventName(req) ?? null,
    repos: p.repos,
    enqueue: [],
  };
}

function detect(req: WebhookRequest, allowed: readonly ProviderId[] | undefined): Provider | null {
  return PROVIDERS.find((p) => (allowed === undefined || allowed.includes(p.id)) && p.detect(req)) ?? null;
}

function unknownSender(allowed: readonly ProviderId[] | undefined): string {
  const names = PROVIDERS.filter((p) => allowed === undefined || allowed.includes(p.id)).map((p) => p.title);
  return `the headers match no known sender (accepted here: ${names.join(', ')})`;
}

function authenticate(provider: Provider, repo: RepoConfig, req: WebhookRequest, now: Date): AuthResult {
  if (repo.allow_ips && !ipAllowed(req.remoteAddress, repo.allow_ips)) {
    return { ok: false, code: 'signature_mismatch', problem: 'ip' };
  }
  if (repo.secret === null) return { ok: true, method: 'none (insecure)' };
  return provider.authenticate(req, repo.secret, now);
}

function authFailure(result: Extract<AuthResult, { ok: false }>, repo: RepoConfig, req: WebhookRequest, p: Partial): Decision {
  if (result.problem === 'ip') {
    return fail('ip_not_allowed', `address ${req.remoteAddress} is not in allow_ips of repo ${repo.name}`, p, req);
  }
  const message =
    result.code === 'signature_mismatch' || result.code === 'token_mismatch'
      ? `${result.problem}: the signature does not match the secret of repo ${repo.name}`
      : `${result.problem} (repo ${repo.name} has a secret, so deliveries must be signed)`;
  return fail(result.code, message, p, req);
}

function parse(provider: Provider, req: WebhookRequest, p: Partial): ParsedDelivery | Decision {
  try {
    return provider.parse(req);
  } catch (err) {
    if (err instanceof AppError) return fail(err.code, err.message, p, req);
    throw err;
  }
}

function isDecision(x: ParsedDelivery | Decision): x is Decision {
  return 'status' in x;
}

/** Decides for `POST /hooks/:repo`. */
export function receiveForRepo(req: WebhookRequest, repoName: string, deps: ReceiveDeps): Decision {
  const repo = deps.config.repos.get(repoName as RepoName);
  const p: Partial = { provider: null, repos: [] };
  if (!repo) return fail('unknown_repo', `no repo named "${repoName.slice(0, 100)}" is configured`, p, req);
  p.repos = [repo.name];
  const provider = detect(req, repo.providers);
  if (!provider) return fail('unknown_sender', unknownSender(repo.providers), p, req);
  p.provider = provider;
  const auth = authenticate(provider, repo, req, deps.now);
  if (!auth.ok) return authFailure(auth, repo, req, p);
  const dup = duplicate(provider, req, deps, p);
  if (dup) return dup;
  const parsed = parse(provider, req, p);
  if (isDecision(parsed)) return parsed;
  return decide(parsed, [repo], req, p);
}

/** Decides for `POST /hooks`: the repo is the one the payload names and whose secret verifies it. */
export function receiveAny(req: WebhookRequest, deps: ReceiveDeps): Decision {
  const p: Partial = { provider: null, repos: [] };
  const provider = detect(req, undefined);
  if (!provider) return fail('unknown_sender', unknownSender(undefined), p, req);
  p.provider = provider;
  const parsed = parse(provider, req, p);
  if (isDecision(parsed)) return parsed;
  const identity = parsed.repository;
  if (identity === null) {
    return fail('no_push_data', 'the payload names no repository; use /hooks/REPO for this sender', p, req);
  }
  const candidates = [...deps.config.repos.values()].filter(
    (r) => (r.providers === undefined || r.providers.includes(provider.id)) && identityMatches(identity, r.url),
  );
  if (candidates.length === 0) {
    return fail('no_matching_repo', `no configured repo matches ${describeIdentity(identity)}`, p, req);
  }
  const passed: RepoConfig[] = [];
  let firstFailure: Decision | null = null;
  for (const repo of candidates) {
    const auth = authenticate(provider, repo, req, deps.now);
    if (auth.ok) passed.push(repo);
    else if (firstFailure === null || (firstFailure.status === 401 && auth.code !== 'signature_missing' && auth.code !== 'token_missing')) {
      firstFailure = authFailure(auth, repo, req, { ...p, repos: [repo.name] });
    }
  }
  if (passed.length === 0) return firstFailure as Decision;
  p.repos = passed.map((r) => r.name);
  const dup = duplicate(provider, req, deps, p);
  if (dup) return dup;
  return decide(parsed, passed, req, p);
}

function duplicate(provider: Provider, req: WebhookRequest, deps: ReceiveDeps, p: Partial): Decision | null {
  const id = provider.deliveryId(req);
  if (id === null || !deps.isDuplicate(provider.id, id)) return null;
  return ok(200, 'duplicate', `delivery ${id} was already received; nothing queued`, provider, req, p.repos, []);
}

function ok(status: number, outcome: OkStatus, message: string, provider: Provider, req: WebhookRequest, repos: RepoName[], enqueue: EnqueueRequest[]): Decision {
  return { status, ok: true, outcome, message, provider: provider.id, deliveryId: provider.deliveryId(req), event: provider.eventName(req), repos, enqueue };
}

function decide(parsed: ParsedDelivery, repos: RepoConfig[], req: WebhookRequest, p: Partial): Decision {
  const provider = p.provider as Provider;
  const names = repos.map((r) => r.name);
  if (parsed.kind === 'ping') return ok(200, 'ping', `${provider.title} ping received; pushes will be deployed`, provider, req, names, []);
  if (parsed.kind === 'ignored') return ok(200, 'ignored', parsed.reason, provider, req, names, []);
  return decidePush(parsed, repos, req, p);
}

function decidePush(push: PushEvent, repos: RepoConfig[], req: WebhookRequest, p: Partial): Decision {
  const provider = p.provider as Provider;
  for (const u of push.updates) {
    const problem = refNameProblem(u.ref);
    if (problem) return fail('no_push_data', `ref "${u.ref.slice(0, 200)}" is not a valid git ref name: it ${problem}`, p, req);
  }
  const enqueue: EnqueueRequest[] = [];
  const notes: string[] = [];
  for (const repo of repos) {
    // Newest matching update wins: later entries in a delivery are later ref changes.
    const live = push.updates.filter((u) => tracksRef(repo, u.ref));
    const update = live.filter((u) => !u.deleted).at(-1);
    const mirror = mirrorDecision(repo, req.query, update !== undefined, push.updates.length > 0);
    if (mirror.kind === 'refused') return fail('forbidden', mirror.reason, p, req);
    if (update) enqueue.push({ repo: repo.name, ref: update.ref, hintSha: hintSha(update), ...mirror.extra });
    else if (mirror.kind === 'mirror-only') enqueue.push({ repo: repo.name, ref: (push.updates.at(-1) as { ref: string }).ref, hintSha: null, ...mirror.extra });
    else if (live.length > 0) notes.push(`${live.map((u) => u.ref).join(', ')} was deleted; a deleted ref never deploys`);
    else notes.push(`${push.updates.map((u) => u.ref).join(', ')} is not tracked by repo ${repo.name} (${describeTracked(repo)})`);
  }
  const names = repos.map((r) => r.name);
  if (enqueue.length === 0) return ok(200, 'ignored', notes.join('; '), provider, req, names, []);
  const what = enqueue.map((e) => `${e.kind === 'mirror' ? 'mirror of ' : ''}${e.repo} ${e.ref}`).join(', ');
  return ok(202, 'queued', `${enqueue.every((e) => e.kind === 'mirror') ? 'mirror' : 'deploy'} queued for ${what}`, provider, req, names, enqueue);
}

function identityMatches(identity: RepoIdentity, configuredUrl: string): boolean {
  const key = repoKey(configuredUrl);
  if (key !== null && identity.urls.some((u) => repoKey(u) === key)) return true;
  return identity.fullName !== null && urlEndsWithFullName(configuredUrl, identity.fullName);
}

function describeIdentity(identity: RepoIdentity): string {
  const first = identity.urls[0];
  return identity.fullName ?? (first !== undefined ? first.slice(0, 200) : 'the payload');
}
