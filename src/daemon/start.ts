import { readFileSync, rmSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import type { Config } from '../config/load.js';
import { ConfigRef } from '../config/config-ref.js';
import { Store } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { Poller } from '../runner/poller.js';
import { Apps } from '../deploy/apps.js';
import { MirrorRetries } from '../runner/mirror-retries.js';
import { Retention } from '../store/retention.js';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { ensurePrivateDir, looseMode } from '../lib/private-fs.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { VERSION } from '../lib/version.js';
import { buildApp, type AppDeps } from '../http/app.js';
import { Metrics } from '../metrics/metrics.js';
import { startNotifier } from '../notify/notifier.js';
import { databasePath, formatUrl, localToken, serverInfoPath, type ServerInfo } from './paths.js';
import { Reloader } from './reload.js';

export interface RunningServer {
  url: string;
  store: Store;
  worker: Worker;
  poller: Poller;
  apps: Apps;
  /** The config in force; a reload replaces it. */
  config: ConfigRef;
  /** Loads the config file again and applies it (daemon/reload.ts); false when it was refused. */
  reload(reason: string): boolean;
  close(): Promise<void>;
}

/**
 * Starts autopull: opens the store, recovers from a previous crash (interrupted jobs are
 * queued again, unfinished releases removed), then listens. Deliveries are answered before
 * any job runs. `watch`: reload when the config file changes (serve does; tests choose).
 */
export async function startServer(config: Config | ConfigRef, logger: Logger, opts: { watch?: boolean } = {}): Promise<RunningServer> {
  const ref = ConfigRef.of(config);
  const first = ref.current;
  ensurePrivateDir(first.data_dir);
  const loose = looseMode(first.data_dir);
  if (loose !== null) {
    logger.warn({ data_dir: first.data_dir, mode: loose }, `data_dir ${first.data_dir} is open to other users (mode ${loose}); autopull's files in it are owner-only, but the folder is yours to tighten: chmod 700 ${first.data_dir}`);
  }
  const store = new Store(databasePath(first));
  const apps = new Apps(ref, logger);
  const worker = new Worker(ref, store, logger, { apps });
  const token = localToken(first);
  const metrics = new Metrics(ref, store, logger);
  for (const repo of first.repos.values()) if (repo.deploy?.start) metrics.watchApp(repo.name, apps.get(repo));
  // Routes read deps.config on each request: after a reload they see the new one.
  const deps: AppDeps = { get config() { return ref.current; }, store, logger, kick: (repo) => worker.kick(repo), apiTokens: [token], metrics };
  const app = await buildApp(deps, { https: first.tlsFiles });
  let url: string;
  try {
    await app.listen({ host: first.listen.host, port: first.listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : first.listen.port;
    url = formatUrl(first.listen.host, port, first.tlsFiles !== undefined);
  } catch (err) {
    metrics.close();
    store.close();
    throw err;
  }
  const info: ServerInfo = { pid: process.pid, url, started_at: new Date().toISOString(), version: VERSION };
  writeFileAtomic(serverInfoPath(first), `${JSON.stringify(info)}\n`);
  const notifier = startNotifier(first, store, logger, url);
  ref.on('change', (next, previous) => {
    notifier.setConfig(next);
    for (const repo of next.repos.values()) if (repo.deploy?.start && !previous.repos.get(repo.name)?.deploy?.start) metrics.watchApp(repo.name, apps.get(repo));
  });
  // Apps first: a recovered job that deploys a supervised repo then stops the app it started.
  await apps.boot(store);
  await worker.recover();
  const poller = new Poller(ref, store, logger, (repo) => worker.kick(repo));
  poller.start();
  const retries = new MirrorRetries(store, (repo) => worker.kick(repo), (repo) => ref.current.repos.has(repo as never));
  retries.start();
  const background = followReloads(ref, store, apps, logger);
  const reloader = new Reloader(ref, logger, {
    tls: first.tlsFiles !== undefined,
    setSecureContext: (files) => (app.server as unknown as TlsServer).setSecureContext({ cert: files.cert, key: files.key }),
  });
  if (opts.watch) reloader.watch();
  logger.info({ url, data_dir: first.data_dir, repos: [...first.repos.keys()] }, `autopull ${VERSION} listening on ${url}`);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      reloader.close();
      poller.stop();
      retries.stop();
      // Before the store closes: a prune stops between two batches.
      await background.stop();
      // The HTTP server stays up while running jobs finish: a delivery meanwhile is
      // recorded and its job queued for the next start (no new job starts now).
      await worker.stop(ref.current.shutdown_grace);
      await app.close();
      // A clean stop (SIGTERM, systemctl stop) stops the supervised apps too; a kill -9
      // leaves them running, and the next start replaces them (Apps.boot).
      await apps.stopAll();
      metrics.close();
      await notifier.stop();
      store.close();
      try {
        const current = JSON.parse(readFileSync(serverInfoPath(first), 'utf8')) as ServerInfo;
        if (current.pid === process.pid) rmSync(serverInfoPath(first), { force: true });
      } catch {
        // already gone
      }
    })();
    return closing;
  };
  return { url, store, worker, poller, apps, config: ref, reload: (reason) => reloader.reload(reason), close };
}

/**
 * What a reload changes besides `ref.current`: retention's policy; a proxied repo whose
 * `deploy.proxy` moved listens on its new address (the runtime opens the new listener
 * before it closes the old one); a repo added with `deploy.start` gets its app started from
 * its `current` release, as at start-up. Nothing that runs is stopped.
 */
function followReloads(ref: ConfigRef, store: Store, apps: Apps, logger: Logger): { stop(): Promise<void> } {
  let retention = new Retention(store, ref.current.retention, logger);
  retention.start();
  let pending: Promise<unknown> = Promise.resolve();
  const onChange = (next: Config, previous: Config) => {
    if (JSON.stringify(next.retention) !== JSON.stringify(previous.retention)) {
      const old = retention;
      retention = new Retention(store, next.retention, logger);
      pending = pending.then(() => old.stop()).then(() => retention.start());
    }
    const added: string[] = [];
    for (const repo of next.repos.values()) {
      const d = repo.deploy;
      if (!d?.start) continue;
      const before = previous.repos.get(repo.name)?.deploy;
      if (!before?.start || Boolean(before.proxy) !== Boolean(d.proxy)) added.push(repo.name);
      else if (d.proxy && before.proxy !== d.proxy) {
        const log = logger.child({ repo: repo.name });
        pending = pending.then(() =>
          apps.proxied.listen(repo).then(
            () => log.info(`${repo.name}: the proxy now listens on ${d.proxy} (was ${before.proxy})`),
            (err: unknown) => log.error(`${repo.name}: the proxy cannot move to ${d.proxy}: ${errorMessage(err)}; it goes on listening on ${before.proxy}`),
          ),
        );
      }
    }
    if (added.length > 0) pending = pending.then(() => apps.boot(store, added)).catch((err: unknown) => logger.error(`starting the apps of ${added.join(', ')}: ${errorMessage(err)}`));
  };
  ref.on('change', onChange);
  return {
    stop: async () => {
      ref.off('change', onChange);
      await pending.catch(() => undefined);
      await retention.stop();
    },
  };
}
