import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Config, RepoConfig } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { VERSION } from '../lib/version.js';
import { ensureRuntime, RuntimeClient } from '../runtime/client.js';
import { PROTOCOL_VERSION, type InstanceInfo, type RuntimeEvent, type RuntimeStatus } from '../runtime/protocol.js';
import { runtimePaths } from '../runtime/paths.js';
import { appLogFile } from './supervisor.js';
import { layout, readCurrent } from './releases.js';
import { healthUrl, waitHealthy } from './health.js';

/** A status answer is quick: the runtime answers from memory. */
const STATUS_TIMEOUT_MS = 5000;
/** A runtime that died is replaced after this, then (when that fails) after twice as long each time, up to REVIVE_MAX_MS. */
const REVIVE_FIRST_MS = 500;
const REVIVE_MAX_MS = 30_000;

/**
 * serve's handle on the runtime (src/runtime) for repos with `deploy.proxy`: the runtime owns
 * the proxy listeners and the app instances, so they keep serving while serve restarts. What
 * is live is asked of the runtime (its proxy's target), never remembered here: a restarted
 * serve re-attaches to what runs. When the runtime itself has died, the next call starts a
 * new one, and `boot` starts each repo's `current` release in it again.
 */
export class ProxiedApps {
  private client: RuntimeClient | null = null;
  private connecting: Promise<RuntimeClient> | null = null;
  private readonly exitWaiters = new Set<(e: RuntimeEvent) => void>();
  private readonly lossWaiters = new Set<() => void>();
  private readonly ref: ConfigRef;
  /** Set by `boot`: how to start `current` again in a new runtime when the old one died. */
  private appEnv: ((repo: RepoConfig, release: string, dir: string) => NodeJS.ProcessEnv) | null = null;
  private detached = false;
  /** The runtime said it is stopping on purpose: not revived until something needs it. */
  private stoppedOnPurpose = false;
  private revive: NodeJS.Timeout | undefined;

  constructor(
    config: Config | ConfigRef,
    private readonly logger: Logger,
  ) {
    this.ref = ConfigRef.of(config);
  }

  private get config(): Config {
    return this.ref.current;
  }

  /** The repos this serve runs behind the proxy (in the config in force now). */
  repos(): RepoConfig[] {
    return [...this.config.repos.values()].filter((r) => r.deploy?.start && r.deploy.proxy);
  }

  async conn(): Promise<RuntimeClient> {
    if (this.client && !this.client.closed) return this.client;
    // serve is stopping (or stopped the runtime on purpose): a job still winding down must not
    // start a runtime that nobody would stop, and its apps, after serve has gone.
    if (this.detached) throw new Error('serve is stopping: the runtime is not started again');
    const lost = this.client !== null;
    this.connecting ??= ensureRuntime(this.config.data_dir)
      .then(async (c) => {
        const kept = this.attach(c);
        // A new runtime after the old one died: it serves nothing yet.
        if (kept === c && lost && this.appEnv) await this.boot(this.appEnv);
        return kept;
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  /** The runtime went away (it died, or was stopped): start a new one and `current` in it, soon. */
  private lostRuntime(): void {
    if (this.detached) return;
    if (this.stoppedOnPurpose) {
      this.logger.warn('the runtime was stopped: apps behind the proxy are down until the next deploy or start of serve');
      return;
    }
    this.logger.warn('the runtime is gone; starting a new one and the current releases in it');
    this.reviveIn(REVIVE_FIRST_MS);
  }

  /** Starts a new runtime after `ms`; a failed start is tried again, later each time, until one runs. */
  private reviveIn(ms: number): void {
    clearTimeout(this.revive);
    this.revive = setTimeout(() => {
      this.conn().catch((err: unknown) => {
        if (this.detached) return;
        const next = Math.min(ms * 2, REVIVE_MAX_MS);
        this.logger.error(`could not start a new runtime: ${errorMessage(err)}; trying again in ${next} ms`);
        this.reviveIn(next);
      });
    }, ms);
  }

  private attach(c: RuntimeClient): RuntimeClient {
    // Two connections made at once (a status beside a deploy): one is kept, so each event is seen once.
    if (this.client && !this.client.closed && this.client !== c) {
      c.close();
      return this.client;
    }
    this.client = c;
    this.stoppedOnPurpose = false;
    c.on('event', (e: RuntimeEvent) => {
      if (e.event === 'stopping') this.stoppedOnPurpose = true;
      for (const w of [...this.exitWaiters]) w(e);
    });
    c.on('close', () => {
      if (this.client !== c) return;
      for (const w of [...this.lossWaiters]) w();
      this.lostRuntime();
    });
    return c;
  }

  /**
   * What the runtime runs, or null when no runtime runs: asking never starts one (status is
   * no reason to start apps; the next deploy, restart or start of serve does).
   */
  async status(): Promise<RuntimeStatus | null> {
    let c = this.client && !this.client.closed ? this.client : null;
    if (!c && this.connecting) c = await this.connecting.catch(() => null);
    if (!c) {
      try {
        c = this.attach(await RuntimeClient.connect(runtimePaths(this.config.data_dir).socket));
      } catch {
        return null;
      }
    }
    return c.request('status', {}, STATUS_TIMEOUT_MS);
  }

  /** Calls `fn` with each runtime event until the returned function is called. */
  onEvent(fn: (e: RuntimeEvent) => void): () => void {
    this.exitWaiters.add(fn);
    return () => this.exitWaiters.delete(fn);
  }

  /** Calls `fn` when the connection to the runtime closes (it died or was stopped), until the returned function is called. */
  onLost(fn: () => void): () => void {
    this.lossWaiters.add(fn);
    return () => this.lossWaiters.delete(fn);
  }

  /** The instance the repo's proxy routes to, if any. */
  async live(repo: string): Promise<InstanceInfo | null> {
    const status = await (await this.conn()).request('status', {});
    const target = status.proxies.find((p) => p.repo === repo)?.target ?? null;
    return status.instances.find((i) => i.id === target) ?? null;
  }

  async instances(repo?: string): Promise<InstanceInfo[]> {
    const status = await (await this.conn()).request('status', {});
    return status.instances.filter((i) => repo === undefined || i.repo === repo);
  }

  async listen(repo: RepoConfig): Promise<void> {
    const proxy = repo.deploy?.proxy;
    if (!proxy) return;
    const at = proxy.lastIndexOf(':');
    const host = proxy.slice(0, at).replace(/^\[|\]$/g, '');
    await (await this.conn()).request('proxy.listen', { repo: repo.name, host, port: Number(proxy.slice(at + 1)), trustProxy: this.config.trust_proxy as boolean | string[] });
  }

  async start(repo: RepoConfig, release: string, releaseDir: string, env: NodeJS.ProcessEnv): Promise<InstanceInfo> {
    const d = repo.deploy!;
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
    return (await this.conn()).request('instance.start', {
      repo: repo.name,
      release,
      cwd: realpathSync(releaseDir),
      command: d.start!,
      env: clean,
      logFile: appLogFile(this.config.data_dir, repo.name, release),
      minUptimeMs: d.min_uptime,
      maxRestarts: d.max_restarts,
    });
  }

  async stop(repo: RepoConfig, id: string): Promise<void> {
    await (await this.conn()).request('instance.stop', { id, stopTimeoutMs: repo.deploy?.stop_timeout ?? 10_000 });
  }

  async route(repo: RepoConfig, id: string | null): Promise<void> {
    await (await this.conn()).request('route', { repo: repo.name, id, drainMs: repo.deploy?.drain_timeout ?? 30_000 });
  }

  async retire(repo: RepoConfig, id: string): Promise<void> {
    await (await this.conn()).request('retire', { id, stopTimeoutMs: repo.deploy?.stop_timeout ?? 10_000 });
  }

  /**
   * At start-up: each proxied repo's listener; when its proxy routes to a running instance,
   * that one serves on (a restart of serve re-attaches); else `current` is started, given
   * until its health check passes (or health.timeout), and routed. Instances no proxy routes
   * to are what an interrupted job left: they are stopped (the job runs again). `only`: just
   * these repos (the ones a reload added).
   */
  async boot(appEnv: (repo: RepoConfig, release: string, dir: string) => NodeJS.ProcessEnv, only?: readonly string[]): Promise<void> {
    this.appEnv = appEnv;
    if (only === undefined && this.repos().length > 0) await this.checkVersion();
    for (const repo of this.repos().filter((r) => only === undefined || only.includes(r.name))) {
      const log = this.logger.child({ repo: repo.name });
      try {
        await this.listen(repo);
        const all = await this.instances(repo.name);
        // Not routed: an interrupted job's new instance, or an old one it had not retired yet.
        for (const i of all.filter((x) => !x.routed && x.state !== 'draining')) await this.retire(repo, i.id);
        const live = all.find((i) => i.routed && i.state !== 'crashed');
        if (live) {
          log.info({ instance: live.id, pid: live.pid }, `${repo.name}: serving on from releases/${live.release} (pid ${live.pid}, re-attached)`);
          continue;
        }
        const l = layout(repo.deploy!.path);
        const current = readCurrent(l);
        if (current === null) continue;
        const dir = join(l.releases, current);
        const inst = await this.start(repo, current, dir, appEnv(repo, current, dir));
        const url = repo.deploy!.health ? healthUrl(repo.deploy!.health.url, inst.port) : null;
        if (url) {
          await waitHealthy({ url, timeoutMs: repo.deploy!.health!.timeout, intervalMs: repo.deploy!.health!.interval }, AbortSignal.timeout(repo.deploy!.health!.timeout + 5000)).catch((err: unknown) =>
            log.warn(`${repo.name}: releases/${current} is not healthy at start-up (${errorMessage(err)}); routing to it anyway: it is current`),
          );
        }
        await this.route(repo, inst.id);
        for (const dead of all.filter((i) => i.routed)) await this.retire(repo, dead.id);
      } catch (err) {
        log.error(`${repo.name}: could not start behind the proxy: ${errorMessage(err)}`);
      }
    }
  }

  /**
   * A runtime left running by an older autopull keeps serving (that is the point of it), but
   * runs the old proxy code: say so, with how to move it to this version.
   */
  private async checkVersion(): Promise<void> {
    try {
      const st = await (await this.conn()).request('status', {}, STATUS_TIMEOUT_MS);
      if (st.protocol !== PROTOCOL_VERSION) {
        this.logger.error(`the runtime (pid ${st.pid}) speaks control protocol ${st.protocol}, this autopull ${PROTOCOL_VERSION}: run \`autopull stop --all\` and start serve again to replace it (its apps restart)`);
      } else if (st.version !== VERSION) {
        this.logger.warn(`the runtime (pid ${st.pid}) runs autopull ${st.version}, this serve ${VERSION}: it serves on unchanged; \`autopull stop --all\` and a start of serve move it to ${VERSION} (its apps restart)`);
      }
    } catch (err) {
      this.logger.warn(`could not ask the runtime its version: ${errorMessage(err)}`);
    }
  }

  /** Closes the connection; the runtime, its proxies and apps run on. */
  detach(): void {
    this.detached = true;
    clearTimeout(this.revive);
    this.client?.close();
  }

  /** Stops the runtime: proxies closed, apps stopped (autopull stop --all, tests). */
  async shutdownRuntime(): Promise<void> {
    this.detached = true;
    clearTimeout(this.revive);
    if (!this.client || this.client.closed) return;
    const c = this.client;
    const gone = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await c.request('shutdown', {}).catch(() => undefined);
    await gone;
  }
}
