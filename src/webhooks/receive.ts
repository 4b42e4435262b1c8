import type { Config, RepoConfig } from '../config/load.js';
import type { ProviderId } from '../config/schema.js';
import { AppError, ERROR_STATUS, type ErrorCode } from '../lib/errors.js';
import type { RepoName } from '../lib/ids.js';
import { refNameProblem } from '../vcs/ref-name.js';
import { ipAllowed } from '../lib/ip-allow.js';
import { describeTracked, tracksRef } from './match-ref.js';
import type { AuthResult, Provider, WebhookRequest } from './provider.js';
import { PROVIDERS } from './providers/index.js';
import { hintSha, type ParsedDelivery, type PushEvent, type RefUpdate, type RepoIdentity } from './push-event.js';
import { repoKey, urlEndsWithFullName } from './repo-url.js';
import { mirrorDecision } from '../mirror/webhook.js';
import type { JobKind, JobParams } from '../store/store.js';

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

/** A tracked ref that was deleted: shown in the job list as an `ignored` job, never run. */
export interface IgnoredJob {
  repo: RepoName;
  ref: string;
  reason: string;
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
  ignoredJobs: IgnoredJob[];
}

export interface ReceiveDeps {
  config: Config;
  now: Date;
  /** Whether this sender's delivery id was already accepted once. */
  isDuplicate(provider: ProviderId, deliveryId: string, repos: readonly RepoName[]): boolean;
  /**
   * An operator's redelivery of a stored delivery (`POST /api/deliveries/:id/redeliver`):
   * the sender is the one recorded, and the duplicate check, allow_ips and signature are
   * skipped on purpose: the operator is authenticated, and the stored signature headers
   * are redacted so they could not be checked anyway.
   */
  redelivery?: { provider: ProviderId | null };
}

interface Partial {
  provider: Provider | null;
  repos: RepoName[];
}

function fail(code: ErrorCode, message: string, p: Partial, req: WebhookRequest): Decision {
  return {
    status: ERROR_STATUS[code],
    ok: false,
    outcome: code,
    message,
    provider: p.provider?.id ?? null,
    deliveryId: p.provider?.deliveryId(req) ?? null,
    event: p.provider?.eventName(req) ?? null,
    repos: p.repos,
    enqueue: [],
    ignoredJobs: [],
  };
}

/**
 * Every sender this delivery may come from, in registry order. Senders known by their own
 * headers (and the generic one, by a credential) first decide; only when no header names a
 * sender are the raw bytes searched for the senders known by their body's shape. Never parses.
 */
function detect(req: WebhookRequest, allowed: readonly ProviderId[] | undefined, deps: ReceiveDeps): Provider[] {
  const forced = deps.redelivery?.provider;
  const list = PROVIDERS.filter((p) => (allowed === undefined || allowed.includes(p.id)) && (!forced || p.id === forced));
  if (forced) return list;
  const matched = new Set(list.filter((p) => p.detectedBy !== 'body' && p.detect(req)));
  const claimed = [...matched].some((p) => p.detectedBy === 'headers');
  return list.filter((p) => matched.has(p) || (p.detectedBy === 'body' && !claimed && p.detect(req)));
}

/** For a sender detected by a byte search: whether the parsed body is really theirs. Parses (once per request). */
function confirmed(provider: Provider, req: WebhookRequest): boolean {
  return provider.confirm === undefined || provider.confirm(req);
}

function unknownSender(allowed: readonly ProviderId[] | undefined): string {
  const names = PROVIDERS.filter((p) => allowed === undefined || allowed.includes(p.id)).map((p) => p.title);
  return `the headers match no known sender (accepted here: ${names.join(', ')})`;
}

type AuthFailure = Extract<AuthResult, { ok: false }>;

function authenticate(provider: Provider, repo: RepoConfig, req: WebhookRequest, deps: ReceiveDeps): AuthResult {
  if (deps.redelivery) return { ok: true, method: 'redelivery by an operator' };
  if (repo.allow_ips && !ipAllowed(req.remoteAddress, repo.allow_ips)) {
    return { ok: false, code: 'signature_mismatch', problem: 'ip' };
  }
  if (repo.secret === null) return { ok: true, method: 'none (insecure)' };
  return provider.authenticate(req, repo.secret, deps.now);
}

/** A wrong credential says more than a missing one: it is the failure to report. */
function worse(a: Decision | null, b: Decision): Decision {
  return a === null || (a.status === 401 && b.status === 403) ? b : a;
}

/**
 * The answer to a failed authentication, for one repo, or (repo null, POST /hooks before
 * the body was read) for every repo that takes this sender's deliveries.
 */
function authFailure(result: AuthFailure, repo: RepoConfig | null, req: WebhookRequest, p: Partial): Decision {
  const whose = repo ? `repo ${repo.name}` : `any repo that takes ${p.provider?.title ?? 'these'} deliveries`;
  if (result.problem === 'ip') {
    return fail('ip_not_allowed', `address ${req.remoteAddress} is not in allow_ips of ${whose}`, p, req);
  }
  const what = result.code === 'token_mismatch' || result.code === 'token_missing' ? 'token' : 'signature';
  let message: string;
  if (result.code === 'signature_missing' || result.code === 'token_missing') {
    const carry = what === 'token' ? 'it' : 'a signature';
    message = repo ? `${result.problem} (repo ${repo.name} has a secret, so deliveries must carry ${carry})` : `${result.problem} (every repo that takes these deliveries has a secret, so they must carry ${carry})`;
  } else if (result.problem.endsWith(' does not match')) {
    message = `${result.problem} the secret of ${whose}`;
  } else {
    message = `${result.problem}: the ${what} does not match the secret of ${whose}`;
  }
  return fail(result.code, message, p, req);
}

/** Of several repos' failures, the one to report when none names the repo: a wrong credential, else a refused address, else a missing credential. */
function mostTelling(failures: Iterable<AuthFailure>): AuthFailure {
  const rank = (f: AuthFailure) => (f.problem === 'ip' ? 2 : f.code.endsWith('_mismatch') ? 3 : 1);
  let best: AuthFailure | null = null;
  for (const f of failures) if (best === null || rank(f) > rank(best)) best = f;
  return best as AuthFailure;
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

/**
 * Decides for `POST /hooks/:repo`. When several senders match the delivery (a token on the
 * URL matches the generic sender too), the first whose authentication passes is the one.
 * The body is parsed only after that (once), so a forged delivery costs no parse.
 */
export function receiveForRepo(req: WebhookRequest, repoName: string, deps: ReceiveDeps): Decision {
  const repo = deps.config.repos.get(repoName as RepoName);
  const p: Partial = { provider: null, repos: [] };
  if (!repo) return fail('unknown_repo', `no repo named "${repoName.slice(0, 100)}" is configured`, p, req);
  p.repos = [repo.name];
  const providers = detect(req, repo.providers, deps);
  if (providers.length === 0) return fail('unknown_sender', unknownSender(repo.providers), p, req);
  let failure: Decision | null = null;
  for (const provider of providers) {
    const auth = authenticate(provider, repo, req, deps);
    if (!auth.ok) {
      failure = worse(failure, authFailure(auth, repo, req, { ...p, provider }));
      continue;
    }
    if (!confirmed(provider, req)) continue;
    p.provider = provider;
    const fresh = notSeen(provider, req, deps, [repo]);
    if (!Array.isArray(fresh)) return fresh;
    const parsed = parse(provider, req, p);
    if (isDecision(parsed)) return parsed;
    return decide(parsed, [repo], req, p);
  }
  return failure ?? fail('unknown_sender', unknownSender(repo.providers), p, req);
}

/** Decides for `POST /hooks`: the repo is the one the payload names and whose secret verifies it. */
export function receiveAny(req: WebhookRequest, deps: ReceiveDeps): Decision {
  const p: Partial = { provider: null, repos: [] };
  const providers = detect(req, undefined, deps);
  if (providers.length === 0) return fail('unknown_sender', unknownSender(undefined), p, req);
  let failure: Decision | null = null;
  for (const provider of providers) {
    const result = receiveAnyAs(provider, req, deps);
    if (result === null) continue;
    if (result.ok) return result;
    failure = failure === null ? result : worse(failure, result);
  }
  return failure ?? fail('unknown_sender', unknownSender(undefined), p, req);
}

/**
 * One sender's try at POST /hooks; null when the body turns out not to be this sender's.
 * Every repo that takes the sender's deliveries checks the credential first (a MAC per
 * distinct secret, see signature.ts); only when one passes is the body parsed, once, to
 * find the repo it names among those.
 */
function receiveAnyAs(provider: Provider, req: WebhookRequest, deps: ReceiveDeps): Decision | null {
  const p: Partial = { provider, repos: [] };
  const takers = [...deps.config.repos.values()].filter((r) => r.providers === undefined || r.providers.includes(provider.id));
  if (takers.length === 0) return fail('no_matching_repo', `no configured repo takes ${provider.title} deliveries`, p, req);
  const failures = new Map<RepoConfig, AuthFailure>();
  for (const repo of takers) {
    const auth = authenticate(provider, repo, req, deps);
    if (!auth.ok) failures.set(repo, auth);
  }
  if (failures.size === takers.length) return authFailure(mostTelling(failures.values()), null, req, p);
  if (!confirmed(provider, req)) return null;
  const parsed = parse(provider, req, p);
  if (isDecision(parsed)) return parsed;
  const identity = parsed.repository;
  const named = identity !== null && (identity.fullName !== null || identity.urls.length > 0);
  const candidates = named ? takers.filter((r) => identityMatches(identity, r.url)) : [];
  // A ping or another event that is not a push, about no configured repo (a GitLab system
  // hook's user_create, a test with the sender's sample repo) is answered as what it is:
  // the credential passed for a repo that takes this sender.
  if (candidates.length === 0 && parsed.kind !== 'push') return decide(parsed, [], req, p);
  if (!named) return fail('no_push_data', 'the payload names no repository; use /hooks/REPO for this sender', p, req);
  if (candidates.length === 0) {
    // An instance-wide GitLab system hook sends the pushes of every project on the instance:
    // those of projects autopull does not deploy are nothing to do, not a failure GitLab
    // should show (and count toward disabling the hook).
    if (parsed.provider === 'gitlab' && parsed.event === 'System Hook') {
      return ok(200, 'ignored', `no configured repo matches ${describeIdentity(identity)} (a GitLab system hook sends every project's pushes)`, provider, req, [], []);
    }
    return fail('no_matching_repo', `no configured repo matches ${describeIdentity(identity)}`, p, req);
  }
  const passed = candidates.filter((r) => !failures.has(r));
  if (passed.length === 0) {
    let failure: Decision | null = null;
    for (const repo of candidates) failure = worse(failure, authFailure(failures.get(repo) as AuthFailure, repo, req, { ...p, repos: [repo.name] }));
    return failure as Decision;
  }
  const fresh = notSeen(provider, req, deps, passed);
  if (!Array.isArray(fresh)) return fresh;
  p.repos = fresh.map((r) => r.name);
  return decide(parsed, fresh, req, p);
}

/**
 * The repos for which this delivery id is new, or the `duplicate` answer when it is new for
 * none. Per repo: an id counts as seen for a repo only once that repo authenticated it, so a
 * delivery an insecure repo accepted cannot burn the id for a secured one.
 */
function notSeen(provider: Provider, req: WebhookRequest, deps: ReceiveDeps, repos: RepoConfig[]): RepoConfig[] | Decision {
  if (deps.redelivery) return repos;
  const id = provider.deliveryId(req);
  if (id === null) return repos;
  const fresh = repos.filter((r) => !deps.isDuplicate(provider.id, id, [r.name]));
  if (fresh.length > 0) return fresh;
  const names = repos.map((r) => r.name);
  return ok(200, 'duplicate', `delivery ${id.slice(0, 200)} was already received; nothing queued`, provider, req, names, []);
}

function ok(status: number, outcome: OkStatus, message: string, provider: Provider, req: WebhookRequest, repos: RepoName[], enqueue: EnqueueRequest[], ignoredJobs: IgnoredJob[] = []): Decision {
  return { status, ok: true, outcome, message, provider: provider.id, deliveryId: provider.deliveryId(req), event: provider.eventName(req), repos, enqueue, ignoredJobs };
}

function decide(parsed: ParsedDelivery, repos: RepoConfig[], req: WebhookRequest, p: Partial): Decision {
  const provider = p.provider as Provider;
  const names = repos.map((r) => r.name);
  if (parsed.kind === 'ping') return ok(200, 'ping', parsed.note ?? `${provider.title} ping received; pushes will be deployed`, provider, req, names, []);
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
  const ignoredJobs: IgnoredJob[] = [];
  const notes: string[] = [];
  for (const repo of repos) {
    // One job per repo, for the newest matching update: later entries in a delivery are later ref changes.
    const live = push.updates.filter((u) => tracksRef(repo, u.ref));
    const update = live.filter((u) => !u.deleted).at(-1);
    const mirror = mirrorDecision(repo, req.query, update !== undefined, push.updates.length > 0);
    if (mirror.kind === 'refused') return fail('forbidden', mirror.reason, p, req);
    if (update) enqueue.push({ repo: repo.name, ref: update.ref, hintSha: hintSha(update), ...mirror.extra });
    else if (mirror.kind === 'mirror-only') enqueue.push({ repo: repo.name, ref: (push.updates.at(-1) as { ref: string }).ref, hintSha: null, ...mirror.extra });
    else if (live.length > 0) {
      const reason = `${live.map((u) => u.ref).join(', ')} was deleted; a deleted ref never deploys`;
      notes.push(reason);
      ignoredJobs.push({ repo: repo.name, ref: (live.at(-1) as RefUpdate).ref, reason });
    } else notes.push(`${push.updates.map((u) => u.ref).join(', ')} is not tracked by repo ${repo.name} (${describeTracked(repo)})`);
  }
  const names = repos.map((r) => r.name);
  if (enqueue.length === 0) return ok(200, 'ignored', notes.join('; '), provider, req, names, [], ignoredJobs);
  const what = enqueue.map((e) => `${e.kind === 'mirror' ? 'mirror of ' : ''}${e.repo} ${e.ref}`).join(', ');
  return ok(202, 'queued', `${enqueue.every((e) => e.kind === 'mirror') ? 'mirror' : 'deploy'} queued for ${what}`, provider, req, names, enqueue, ignoredJobs);
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
