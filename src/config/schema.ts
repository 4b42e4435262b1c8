import { z } from '../lib/zod.js';
import { parseDuration, parseRate, parseSize, type Rate } from './duration.js';
import { REPO_NAME_RE } from '../lib/ids.js';

/**
 * The one schema of autopull.yml: it gives the TypeScript types, the defaults, the shipped
 * config.schema.json (scripts/write-schema.ts; a test keeps them equal) and every problem
 * with its dotted path.
 */

export const PROVIDER_IDS = [
  'github',
  'gitlab',
  'bitbucket-cloud',
  'bitbucket-server',
  'bitbucket-legacy',
  'gitea',
  'forgejo',
  'gogs',
  'backlog',
  'azure-devops',
  'generic',
] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

const duration = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (write it like 30s, 10m or 1h)` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: `${what} (30s, 10m, 1h; a bare number is seconds)` });

const size = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const n = parseSize(v);
    if (n === null) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (write it like 512KiB or 5MiB)` });
      return z.NEVER;
    }
    return n;
  })
  .meta({ description: 'a size in bytes, or with a unit: 512KiB, 5MiB' });

const nonEmpty = z.string().min(1, 'must not be empty');

/** A list that also takes one value alone: `branches: main` is `branches: [main]`. */
function listOf<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item)]).transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]));
}
const stringList = listOf(nonEmpty);

export const listenSchema = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, for example 127.0.0.1:8686 or [::1]:8686')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535')
  .meta({ description: 'host:port to listen on (also [::1]:port)' });

/**
 * Why a `shared:` entry is refused, or null: it must name a path inside the release (no
 * leading /, no `..` segment), since autopull replaces whatever the commit has there.
 */
export function sharedEntryProblem(entry: string): string | null {
  if (entry.startsWith('/')) return `"${entry}" must be relative to the release, without a leading /`;
  const parts = entry.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return `"${entry}" must stay inside the release: no .. segment`;
  if (parts.length === 0) return `"${entry}" names the release itself: give a file, or a folder with a trailing /`;
  return null;
}

const sharedEntry = nonEmpty.superRefine((entry, ctx) => {
  const problem = sharedEntryProblem(entry);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const healthSchema = z
  .strictObject({
    url: nonEmpty.meta({ description: 'path on the app port (/healthz) or an absolute http(s) URL' }),
    timeout: duration('how long a new release may take to become healthy').default(30_000),
    interval: duration('time between health probes (the wait for a new release starts at 10 ms and backs off to this)').default(1000),
  })
  .meta({ description: 'HTTP GET that must answer 2xx' });

export const deploySchema = z.strictObject({
  path: nonEmpty.meta({ description: 'folder holding releases/, current and shared/' }),
  build: stringList.default([]).meta({ description: 'shell commands run in the new release directory' }),
  shared: listOf(sharedEntry).default([]).meta({ description: 'files (and folders, with a trailing /) linked from shared/ into every release' }),
  start: nonEmpty.optional().meta({ description: 'command that autopull runs and supervises in the release directory' }),
  restart: nonEmpty.optional().meta({ description: 'external command run after the switch (systemctl restart ...)' }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: 'PORT given to a supervised app' }),
  min_uptime: duration('a supervised app that exits sooner has crashed; with no health check, staying up this long is healthy').default(5000),
  max_restarts: z.number().int().min(0).max(1000).default(5).meta({ description: 'crashes in a row after which a supervised app stays down (state crashed)' }),
  stop_timeout: duration('grace between SIGTERM and SIGKILL when a supervised app stops').default(10_000),
  proxy: listenSchema.optional().meta({ description: 'address where autopull serves the app and switches traffic with no downtime; each release then runs on a free loopback PORT' }),
  drain_timeout: duration('behind the proxy: how long in-flight requests and open WebSockets/streams of the old release get after a switch').default(30_000),
  health: healthSchema.optional(),
  probation: duration('after the switch, a crash or failed health in this window reverts').default(30_000),
  keep: z.number().int().min(1).max(1000).default(5).meta({ description: 'releases kept for rollback' }),
  timeout: duration('limit for the whole job').default(600_000),
});

const mirrorSchema = z.strictObject({
  url: nonEmpty.meta({ description: 'git remote to push to; may hold {owner} and {name}, filled from ?owner=&name= on the hook URL' }),
  refs: stringList.default(['refs/heads/*', 'refs/tags/*']).meta({ description: 'ref globs to push (and to prune)' }),
  prune: z.boolean().default(true).meta({ description: 'delete refs deleted at the source' }),
  force: z.boolean().default(true).meta({ description: 'follow the source when a ref diverged; with false a diverged ref is reported and the others still go through' }),
  ssh_key: nonEmpty.optional().meta({ description: "SSH private key for this target (default: the repo's ssh_key)" }),
  token_env: nonEmpty.optional().meta({ description: 'environment variable holding an HTTPS token' }),
  allow_targets: stringList.optional().meta({ description: 'globs a url filled from {owner}/{name} must match' }),
  default_branch: nonEmpty.optional().meta({ description: "Mercurial sources: the git branch hg's default branch becomes (default main)" }),
});
export type MirrorTarget = z.output<typeof mirrorSchema>;

/** What a notification can be about (`on:`); `all` stands for every one. */
export const NOTIFY_EVENTS = ['success', 'failure', 'recovery', 'mirror_failure', 'mirror_recovery'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const notifySchema = z
  .strictObject({
    url: nonEmpty
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL, like https://hooks.example.com/deploys')
      .meta({ description: 'http(s) URL that receives a POST per message; never taken from a payload' }),
    on: listOf(z.enum([...NOTIFY_EVENTS, 'all']))
      .default(['all'])
      .meta({ description: 'events to send: success (a release went live), failure (the first failure after a success), recovery, mirror_failure, mirror_recovery; all (default)' }),
    format: z.enum(['json', 'slack']).default('json').meta({ description: 'json: the job summary; slack: a Slack-compatible {text, blocks} message' }),
    secret: nonEmpty.optional().meta({ description: 'signs each message with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature); whsec_<base64> or any string' }),
    timeout: duration('time one attempt may take').default(10_000),
    retries: z.number().int().min(0).max(10).default(3).meta({ description: 'attempts after the first, with backoff (1s, 2s, 4s, ...)' }),
  })
  .meta({ description: 'a receiver of notifications about finished jobs' });
export type NotifyTarget = z.output<typeof notifySchema>;

export const repoSchema = z.strictObject({
  url: nonEmpty.meta({ description: 'where autopull fetches from; never taken from a payload' }),
  vcs: z.enum(['git', 'hg']).default('git'),
  secret: nonEmpty.optional().meta({ description: 'HMAC key or token, as the sender needs' }),
  secret_file: nonEmpty.optional().meta({ description: 'file holding the secret (instead of secret)' }),
  insecure: z.boolean().default(false).meta({ description: 'accept deliveries without a secret' }),
  providers: listOf(z.enum(PROVIDER_IDS)).optional().meta({ description: 'accept only these senders' }),
  allow_ips: stringList.optional().meta({ description: 'allow-list of the addresses deliveries may come from: IP addresses, CIDR blocks, and the presets github, gitlab, bitbucket (the hook ranges each host publishes, as of the date in src/config/ip-presets.json)' }),
  branches: stringList.default(['main']).meta({ description: 'refs that trigger a deploy (globs allowed)' }),
  tags: stringList.default([]).meta({ description: "tags that trigger a deploy (globs allowed: 'v*')" }),
  poll: duration('also check the remote on this interval').optional(),
  ssh_key: nonEmpty.optional(),
  deploy: deploySchema.optional(),
  mirror: z.array(mirrorSchema).optional(),
  notify: z.array(notifySchema).optional(),
});

const maxCount = (what: string, n: number) => z.number().int().min(1).max(100_000_000).default(n).meta({ description: what });

/**
 * How long the ledger and job logs are kept (src/jobs/retention.ts). Rejected deliveries are
 * counted apart and kept shorter, so a flood of them never pushes accepted history out. A
 * queued or running job keeps its deliveries and its log whatever their age.
 */
export const retentionSchema = z
  .strictObject({
    interval: duration('how often the server deletes what is past its age or count')
      .prefault('10m')
      .refine((ms) => ms >= 100, 'must be at least 100ms'),
    deliveries: z
      .strictObject({
        max_age: duration('accepted deliveries received longer ago are deleted').prefault('30d'),
        max_count: maxCount('accepted deliveries kept (the newest)', 10_000),
      })
      .prefault({})
      .meta({ description: 'deliveries answered 2xx' }),
    rejected: z
      .strictObject({
        max_age: duration('rejected deliveries received longer ago are deleted').prefault('7d'),
        max_count: maxCount('rejected deliveries kept (the newest)', 1000),
      })
      .prefault({})
      .meta({ description: 'deliveries answered 4xx or 5xx (bad signature, unknown repo, ...): anyone can send those' }),
    job_logs: z
      .strictObject({
        max_age: duration('logs of jobs that finished longer ago are deleted').prefault('90d'),
        max_jobs: maxCount('logs are kept for this many of the newest jobs', 1000),
      })
      .prefault({})
      .meta({ description: "jobs' log lines (the job rows themselves are kept)" }),
  });

/** A rate limit: `N/DURATION` (a burst of N, refilled evenly over DURATION), or off (`off`, `false`, `0`): null. */
const rateLimit = (what: string) =>
  z
    .union([z.string(), z.number(), z.boolean()])
    .transform((v, ctx): Rate | null => {
      if (v === false || v === 0 || v === 'off' || v === '0') return null;
      const rate = typeof v === 'string' ? parseRate(v) : null;
      if (rate === null) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate (write it like 10/1m: 10 in any minute; or off)` });
        return z.NEVER;
      }
      return rate;
    })
    .meta({ description: `${what} (N/DURATION, like 10/1m: a burst of N, then N per DURATION; off for none)` });

const OFF = { failed_auth: null, per_address: null, per_repo: null };

/**
 * Rate limits of the webhook routes (/hooks, /hooks/REPO), answered 429 with Retry-After
 * (src/http/hook-guard.ts). Each is off with `off`; `rate: off` turns all three off.
 */
export const hookRatesSchema = z
  .union([
    z.literal('off'),
    z.literal(false),
    z.strictObject({
      failed_auth: rateLimit('deliveries refused for their credential or address (401, 403, unknown repo or sender) per client address and repo; past it a delivery from the address that fails again is answered 429 (one that passes goes through)').prefault('10/1m'),
      per_address: rateLimit('deliveries per client address (IPv6: per /64), whatever their outcome').prefault('600/1m'),
      per_repo: rateLimit('deliveries that queue a job, per repo, from all addresses together').prefault('120/1m'),
    }),
  ])
  .transform((v) => (typeof v === 'object' ? v : OFF));
export type HookRates = z.output<typeof hookRatesSchema>;

const positiveDuration = (what: string) => duration(what).refine((ms) => ms > 0, 'must be longer than 0');

/**
 * What one client may hold of the HTTP server (slow or idle clients, floods of connections).
 * `max_connections` has no default here: the server derives it from the open-file limit.
 */
export const limitsSchema = z
  .strictObject({
    header_timeout: positiveDuration('time a client has to send the request line and headers').default(10_000),
    request_timeout: positiveDuration('time a client has to send a whole request, body included').default(30_000),
    keep_alive_timeout: positiveDuration('an idle kept-alive connection is closed after this long').default(5000),
    max_header_size: size.default(16 * 1024).meta({ description: 'request line and headers together (431 above)' }),
    max_url_length: z.number().int().min(64).max(1024 * 1024).default(8192).meta({ description: 'longest request URL in bytes (414 above)' }),
    connections_per_address: z.number().int().min(1).max(100_000).default(64).meta({ description: 'open connections one client address may hold (IPv6: one /64); more are closed at once' }),
    max_connections: z.number().int().min(1).max(1_000_000).optional().meta({ description: 'open connections in all; more are refused with 503 (default: min(4096, open-file limit - 320))' }),
    rate: hookRatesSchema.prefault({}).meta({ description: 'rate limits of /hooks and /hooks/REPO (429 with Retry-After); off for none' }),
  })
  .refine((l) => l.request_timeout <= 0 || l.header_timeout <= l.request_timeout, { message: 'must not be longer than limits.request_timeout', path: ['header_timeout'] })
  .meta({ description: 'limits on HTTP clients: timeouts, sizes, connections, webhook rates' });
export type Limits = z.output<typeof limitsSchema>;

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    listen: listenSchema.default('127.0.0.1:8686'),
    tls: z
      .strictObject({
        cert: nonEmpty.meta({ description: 'PEM certificate (with its chain after it), read at start and at each reload' }),
        key: nonEmpty.meta({ description: 'PEM private key of the certificate' }),
      })
      .optional()
      .meta({ description: 'serve HTTPS; the files are read again at each reload (SIGHUP), so a renewed certificate needs no restart' }),
    data_dir: nonEmpty.default('./.autopull'),
    auth_token: z.string().min(16, 'must be at least 16 characters').optional(),
    trust_proxy: z
      .union([z.boolean(), stringList])
      .default(false)
      .meta({ description: 'whose X-Forwarded-For to believe: false (nobody), true (the nearest hop only: the client is the right-most entry), or the CIDR blocks of your proxies (the client is the right-most entry not in them)' }),
    body_limit: size.default(5 * 1024 * 1024),
    shutdown_grace: duration('at a stop (autopull stop, SIGTERM, SIGINT), how long a running job may go on before it is recorded interrupted and queued for the next start').default(300_000),
    retention: retentionSchema.prefault({}).meta({ description: 'how long deliveries and job logs are kept' }),
    limits: limitsSchema.prefault({}),
    notify: z.array(notifySchema).optional().meta({ description: 'receivers notified about every repo (a repo\'s own notify: list adds to it)' }),
    public_url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, like https://deploy.example.com' })
      .optional()
      .meta({ description: 'where people reach this server (behind a proxy): links in notifications start with it (default: the listen address)' }),
    repos: z.record(z.string().regex(REPO_NAME_RE, 'repo names use a-z, 0-9, . _ - and start with a letter or digit'), repoSchema),
  })
  .meta({ title: 'autopull configuration' });

export type RawConfig = z.output<typeof configSchema>;
export type RawRepo = z.output<typeof repoSchema>;
export type RawDeploy = z.output<typeof deploySchema>;

export function jsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://github.com/autopull/autopull/config.schema.json',
  };
}
