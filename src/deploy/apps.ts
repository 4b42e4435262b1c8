import { join } from 'node:path';
import type { Config, RepoConfig } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import type { Store } from '../store/store.js';
import { childEnv } from '../lib/child-env.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { layout, readCurrent } from './releases.js';
import { killStale, Supervisor } from './supervisor.js';
import { ProxiedApps } from './proxied-apps.js';

/**
 * The server's supervised apps: one Supervisor per repo with `deploy.start`, made on first
 * use. Only `autopull serve` has one; an in-process CLI run does not (its app would die
 * with the CLI), so jobs of a supervised repo are refused there (`requireApps`).
 *
 * A reload changes no app that runs: a repo's new start line, port or limits are given to
 * its supervisor for the next start (the next deploy), and a repo removed from the config
 * keeps its app running until autopull stops.
 */
export class Apps {
  private sups = new Map<string, Supervisor>();
  /** The repos behind autopull's proxy: their apps run in the runtime process. */
  readonly proxied: ProxiedApps;
  private readonly ref: ConfigRef;

  constructor(
    config: Config | ConfigRef,
    private readonly logger: Logger,
  ) {
    this.ref = ConfigRef.of(config);
    this.proxied = new ProxiedApps(this.ref, logger);
  }

  get(repo: RepoConfig): Supervisor {
    let sup = this.sups.get(repo.name);
    const d = repo.deploy;
    if (!d?.start) throw new Error(`repo ${repo.name} has no deploy.start`);
    const spec = { command: d.start, port: d.port, minUptimeMs: d.min_uptime, maxRestarts: d.max_restarts };
    if (sup) {
      sup.configure(spec);
      return sup;
    }
    const log = this.logger.child({ repo: repo.name });
    sup = new Supervisor({ repo: repo.name, dataDir: this.ref.current.data_dir, ...spec, log: (level, message) => log[level](message) });
    this.sups.set(repo.name, sup);
    return sup;
  }

  /**
   * At start-up, for each supervised repo: kill the app group a previous autopull left
   * running (killed with -9, its app still holds the port), then start the app from the
   * release `current` points at. We restart rather than adopt: an adopted process is not our
   * child, so its exit could not be seen (only polled) and its output pipes are not ours.
   * `only`: just these repos (the ones a reload added).
   */
  async boot(store: Store, only?: readonly string[]): Promise<void> {
    const wanted = (r: RepoConfig) => only === undefined || only.includes(r.name);
    for (const repo of this.ref.current.repos.values()) {
      const d = repo.deploy;
      if (!d?.start || d.proxy || !wanted(repo)) continue;
      const log = this.logger.child({ repo: repo.name });
      try {
        const stale = await killStale(this.ref.current.data_dir, repo.name, d.stop_timeout);
        if (stale !== null) log.warn({ pid: stale }, 'stopped the app a previous autopull left running');
        const l = layout(d.path);
        const current = readCurrent(l);
        if (current === null) continue;
        const dir = join(l.releases, current);
        const sha = store.getRelease(repo.name, current)?.sha ?? '';
        this.get(repo).start(dir, appEnv(repo.name, sha, dir));
      } catch (err) {
        log.error(`could not start the app: ${errorMessage(err)}`);
      }
    }
    const proxied = this.proxied.repos().filter(wanted).map((r) => r.name);
    if (proxied.length > 0) await this.proxied.boot((repo, release, dir) => appEnv(repo.name, store.getRelease(repo.name, release)?.sha ?? '', dir), proxied);
  }

  /** Stops every app (SIGTERM, SIGKILL after each repo's stop_timeout). */
  async stopAll(): Promise<void> {
    await Promise.allSettled(
      [...this.sups.entries()].map(([name, sup]) => sup.stop(this.ref.current.repos.get(name as never)?.deploy?.stop_timeout ?? 10_000)),
    );
    // The runtime, its proxies and the apps behind them serve on: traffic outlives serve.
    this.proxied.detach();
  }
}

/** The environment of an app started outside a job (at start-up). */
export function appEnv(repo: string, sha: string, dir: string): NodeJS.ProcessEnv {
  return childEnv({ AUTOPULL_REPO: repo, AUTOPULL_REF: '', AUTOPULL_SHA: sha, AUTOPULL_PREVIOUS_SHA: '', AUTOPULL_RELEASE_DIR: dir, AUTOPULL_JOB: '' });
}

/** The supervisor of a `start` repo; refuses when this process has none (an in-process CLI run). */
export function requireApps(repo: RepoConfig, apps: Apps | undefined): Supervisor | null {
  if (!repo.deploy?.start) return null;
  if (apps && repo.deploy.proxy) return null;
  if (!apps) throw new Error(`repo ${repo.name} is supervised (deploy.start): its app runs inside the server; start it with autopull serve, then run this again`);
  return apps.get(repo);
}
