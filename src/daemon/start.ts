import { readFileSync, rmSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { Store } from '../store/store.js';
import { Worker } from '../runner/worker.js';
import { Poller } from '../runner/poller.js';
import { Apps } from '../deploy/apps.js';
import { MirrorRetries } from '../runner/mirror-retries.js';
import { Retention } from '../store/retention.js';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { ensurePrivateDir, looseMode } from '../lib/private-fs.js';
import type { Logger } from '../lib/log.js';
import { VERSION } from '../lib/version.js';
import { buildApp } from '../http/app.js';
import { Metrics } from '../metrics/metrics.js';
import { startNotifier } from '../notify/notifier.js';
import { databasePath, formatUrl, localToken, serverInfoPath, type ServerInfo } from './paths.js';

export interface RunningServer {
  url: string;
  store: Store;
  worker: Worker;
  poller: Poller;
  apps: Apps;
  close(): Promise<void>;
}


/**
 * Starts autopull: opens the store, recovers from a previous crash (interrupted jobs are
 * queued again, unfinished releases removed), then listens. Deliveries are answered before
 * any job runs.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  ensurePrivateDir(config.data_dir);
  const loose = looseMode(config.data_dir);
  if (loose !== null) {
    logger.warn({ data_dir: config.data_dir, mode: loose }, `data_dir ${config.data_dir} is open to other users (mode ${loose}); autopull's files in it are owner-only, but the folder is yours to tighten: chmod 700 ${config.data_dir}`);
  }
  const store = new Store(databasePath(config));
  const apps = new Apps(config, logger);
  const worker = new Worker(config, store, logger, { apps });
  const token = localToken(config);
  const metrics = new Metrics(config, store, logger);
  for (const repo of config.repos.values()) if (repo.deploy?.start) metrics.watchApp(repo.name, apps.get(repo));
  metrics.watchProxied(apps.proxied);
  const app = await buildApp({ config, store, logger, kick: (repo) => worker.kick(repo), apiTokens: [token], metrics, apps });
  let url: string;
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.listen.port;
    url = formatUrl(config.listen.host, port, false);
  } catch (err) {
    metrics.close();
    store.close();
    throw err;
  }
  const info: ServerInfo = { pid: process.pid, url, started_at: new Date().toISOString(), version: VERSION };
  writeFileAtomic(serverInfoPath(config), `${JSON.stringify(info)}\n`);
  const notifier = startNotifier(config, store, logger, url);
  // Apps first: a recovered job that deploys a supervised repo then stops the app it started.
  await apps.boot(store);
  await worker.recover();
  const poller = new Poller(config, store, logger, (repo) => worker.kick(repo));
  poller.start();
  const retries = new MirrorRetries(store, (repo) => worker.kick(repo), (repo) => config.repos.has(repo as never));
  retries.start();
  const retention = new Retention(store, config.retention, logger);
  retention.start();
  logger.info({ url, data_dir: config.data_dir, repos: [...config.repos.keys()] }, `autopull ${VERSION} listening on ${url}`);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      poller.stop();
      retries.stop();
      // Before the store closes: a prune stops between two batches.
      await retention.stop();
      await app.close();
      await worker.stop();
      // A clean stop (SIGTERM, systemctl stop) stops the supervised apps too; a kill -9
      // leaves them running, and the next start replaces them (Apps.boot).
      await apps.stopAll();
      metrics.close();
      await notifier.stop();
      store.close();
      try {
        const current = JSON.parse(readFileSync(serverInfoPath(config), 'utf8')) as ServerInfo;
        if (current.pid === process.pid) rmSync(serverInfoPath(config), { force: true });
      } catch {
        // already gone
      }
    })();
    return closing;
  };
  return { url, store, worker, poller, apps, close };
}
