import type { Config, RepoConfig } from '../config/load.js';
import type { InstanceInfo, RuntimeStatus } from '../runtime/protocol.js';

/**
 * What `autopull apps`, `status` and `GET /api/apps` show of a supervised app (`deploy.start`),
 * the same for both ways of running one: on one `port` (a Supervisor inside serve) and behind
 * the proxy (instances in the runtime process). Pure: built from snapshots the callers take
 * (app-status-read.ts).
 *
 * States: `starting` (its process runs, not yet for min_uptime: an exit now counts as a crash),
 * `running`, `backoff` (it ended on its own and is started again after a delay), `crashed`
 * (ended max_restarts times in a row: stays down until the next deploy or restart), `draining`
 * (behind the proxy: routed away from, finishing what it has open before it stops), `stopped`.
 */
export type AppRunState = 'starting' | 'running' | 'backoff' | 'crashed' | 'draining' | 'stopped';

export interface AppInstance {
  /** The runtime's instance id (proxy), or `<repo>/<release>` (port). */
  id: string;
  release: string | null;
  state: AppRunState;
  pid: number | null;
  port: number | null;
  /** When its current process started (after a restart with backoff, that restart). */
  started_at: string | null;
  uptime_seconds: number | null;
  /** Restarts after it ended on its own since it was started by a deploy, restart or start-up; null when unknown. */
  restarts: number | null;
  /** Serves the repo's traffic now: routed to (proxy) or the supervised app (port), and not crashed or stopped. */
  live: boolean;
  /** Proxy: whether the proxy sends it new requests (a crashed instance stays the target until the next deploy or restart). */
  routed: boolean;
  /** Proxy: requests and WebSockets/streams it has open now. */
  open: { requests: number; sockets: number } | null;
}

export interface AppStatus {
  repo: string;
  mode: 'port' | 'proxy';
  /** Proxy: the address it listens on; port: `deploy.port` as `:PORT`. */
  listen: string | null;
  /** The app's state: its live (proxy: routed) instance's, else `stopped`. */
  state: AppRunState;
  release: string | null;
  pid: number | null;
  port: number | null;
  started_at: string | null;
  uptime_seconds: number | null;
  restarts: number | null;
  /** Every instance: behind the proxy, the routed one, one being gated, draining ones. */
  instances: AppInstance[];
  /** Where this was read: serve's own supervisor, the runtime's socket, or the pid file (no server running). */
  source: 'server' | 'runtime' | 'pid_file';
  /** Why less is known than usual (no runtime running, no server running), or null. */
  note: string | null;
}

/** The repos with a supervised app, in config order (one named by `only`, when given). */
export function supervisedRepos(config: Config, only?: string): RepoConfig[] {
  return [...config.repos.values()].filter((r) => r.deploy?.start && (only === undefined || r.name === only));
}

export function appMode(repo: RepoConfig): 'port' | 'proxy' {
  return repo.deploy?.proxy ? 'proxy' : 'port';
}

/** `running` becomes `starting` until its process has run for min_uptime. */
export function shownState(state: AppRunState, spawnedAtMs: number | null, minUptimeMs: number, now: number): AppRunState {
  return state === 'running' && spawnedAtMs !== null && now - spawnedAtMs < minUptimeMs ? 'starting' : state;
}

const UP: readonly AppRunState[] = ['starting', 'running', 'draining'];

function uptime(state: AppRunState, startedAt: string | null, now: number): number | null {
  if (!UP.includes(state) || startedAt === null) return null;
  const t = Date.parse(startedAt);
  return Number.isFinite(t) ? Math.max(0, Math.round((now - t) / 100) / 10) : null;
}

/** A snapshot of one process as the supervisor or the pid file knows it. */
export interface ProcessSnapshot {
  state: 'stopped' | 'running' | 'backoff' | 'crashed';
  release: string | null;
  pid: number | null;
  port: number | null;
  spawnedAtMs: number | null;
  restarts: number | null;
}

/** A port-mode app: one process at most. */
export function portAppStatus(repo: RepoConfig, p: ProcessSnapshot, source: AppStatus['source'], note: string | null, now = Date.now()): AppStatus {
  const state = shownState(p.state, p.spawnedAtMs, repo.deploy?.min_uptime ?? 0, now);
  const started_at = p.spawnedAtMs === null ? null : new Date(p.spawnedAtMs).toISOString();
  const live = state !== 'stopped' && state !== 'crashed';
  const port = p.port ?? repo.deploy?.port ?? null;
  const inst: AppInstance = { id: `${repo.name}/${p.release ?? '-'}`, release: p.release, state, pid: p.pid, port, started_at, uptime_seconds: uptime(state, started_at, now), restarts: p.restarts, live, routed: false, open: null };
  const instances = p.release === null && state === 'stopped' ? [] : [inst];
  return { repo: repo.name, mode: 'port', listen: repo.deploy?.port === undefined ? null : `:${repo.deploy.port}`, ...summary(inst, instances), source, note };
}

/** A proxied app from the runtime's status (null: no runtime runs). */
export function proxiedAppStatus(repo: RepoConfig, rt: RuntimeStatus | null, source: AppStatus['source'], note: string | null, now = Date.now()): AppStatus {
  const listen = rt?.proxies.find((p) => p.repo === repo.name)?.listen ?? repo.deploy?.proxy ?? null;
  const instances = (rt?.instances ?? []).filter((i) => i.repo === repo.name).map((i) => instanceView(repo, i, now));
  // The routed one first, then the others oldest first.
  instances.sort((a, b) => Number(b.routed) - Number(a.routed) || (a.started_at ?? '').localeCompare(b.started_at ?? ''));
  const routed = instances.find((i) => i.routed) ?? null;
  return { repo: repo.name, mode: 'proxy', listen, ...summary(routed, instances), source, note: rt === null ? (note ?? 'the runtime is not running (autopull serve starts it)') : note };
}

function instanceView(repo: RepoConfig, i: InstanceInfo, now: number): AppInstance {
  const spawned = i.spawned_at === undefined ? i.started_at : i.spawned_at;
  const spawnedAtMs = spawned === null ? null : Date.parse(spawned);
  const state = shownState(i.state, Number.isFinite(spawnedAtMs) ? spawnedAtMs : null, repo.deploy?.min_uptime ?? 0, now);
  const started_at = i.pid === null ? null : spawned;
  const live = i.routed && state !== 'crashed' && state !== 'stopped';
  return { id: i.id, release: i.release, state, pid: i.pid, port: i.port, started_at, uptime_seconds: uptime(state, started_at, now), restarts: i.restarts, live, routed: i.routed, open: i.open };
}

function summary(main: AppInstance | null, instances: AppInstance[]): Pick<AppStatus, 'state' | 'release' | 'pid' | 'port' | 'started_at' | 'uptime_seconds' | 'restarts' | 'instances'> {
  if (!main) return { state: 'stopped', release: null, pid: null, port: null, started_at: null, uptime_seconds: null, restarts: null, instances };
  const { state, release, pid, port, started_at, uptime_seconds, restarts } = main;
  return { state, release, pid, port, started_at, uptime_seconds, restarts, instances };
}
