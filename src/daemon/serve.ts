import { closeSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { configPath, loadConfig } from '../config/load.js';
import { errorMessage, UsageError } from '../lib/errors.js';
import { logLevel, openLog, type LogHandle, type Logger } from '../lib/log.js';
import { ensurePrivateDir } from '../lib/private-fs.js';
import { releaseYoungGeneration } from '../lib/young-gen.js';
import { claimPidFile, defaultPidFile, releasePidFile } from './pid-file.js';
import { startServer, type RunningServer } from './start.js';

/** How long a stopped server may wait for the event loop to drain before it exits anyway. */
const DRAIN_MS = 1000;

export interface ServeOptions {
  config?: string;
  pidFile?: string;
  logFile?: string;
  logLevel?: string;
  /** Set by `serve --daemon` in the process it starts: where to say "ready" or why not. */
  readyFd?: number;
}

/** What a daemon tells the process that started it, as one JSON line on the ready descriptor. */
export type ReadyMessage = { ok: true; pid: number; url: string } | { ok: false; error: string };

function tellStarter(fd: number | undefined, msg: ReadyMessage): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, `${JSON.stringify(msg)}\n`);
    closeSync(fd);
  } catch {
    // the starter is gone: nobody waits
  }
}

/**
 * `autopull serve`, in the foreground or as the daemon `serve --daemon` started: claims the
 * pid file, starts the server, then lives on signals until it is stopped:
 *  - SIGTERM, SIGINT: stop (no new jobs; a running job gets shutdown_grace, then it is
 *    recorded interrupted and queued for the next start); a second one exits at once.
 *  - SIGHUP: reload the config (a change of the file does the same).
 *  - SIGUSR2: reopen the log file (after logrotate moved it).
 */
export async function runServe(opts: ServeOptions): Promise<void> {
  const level = logLevel(opts.logLevel);
  if (level === null) throw new UsageError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent, not "${opts.logLevel ?? process.env.AUTOPULL_LOG_LEVEL}"`);
  let pidFile: string | null = null;
  let server: RunningServer;
  let log: LogHandle;
  try {
    const config = loadConfig(configPath(opts.config));
    // Before the pid file or the log file make it with a looser mode.
    ensurePrivateDir(config.data_dir);
    log = openLog({ level, ...(opts.logFile ? { file: resolve(opts.logFile) } : {}) });
    pidFile = opts.pidFile ? resolve(opts.pidFile) : defaultPidFile(config);
    claimPidFile(pidFile);
    server = await startServer(config, log.logger, { watch: true });
  } catch (err) {
    if (pidFile) releasePidFile(pidFile);
    tellStarter(opts.readyFd, { ok: false, error: errorMessage(err) });
    throw err;
  }
  releaseYoungGeneration();
  tellStarter(opts.readyFd, { ok: true, pid: process.pid, url: server.url });
  if (opts.readyFd === undefined) console.error(`autopull listening on ${server.url}`);
  const file = pidFile;
  await untilStopped(server, log, () => releasePidFile(file));
  releasePidFile(pidFile);
  exitIfStillRunning(log.logger);
}

function untilStopped(server: RunningServer, log: LogHandle, releasePid: () => void): Promise<void> {
  const logger = log.logger;
  const onHup = () => void server.reload('SIGHUP');
  const onUsr2 = () => {
    log.reopen();
    logger.info({ file: log.file }, log.file ? `log file reopened (SIGUSR2): ${log.file}` : 'SIGUSR2: the log goes to stdout, nothing to reopen');
  };
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);
  return new Promise<void>((done) => {
    let stopping = false;
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal: sig }, `${sig} again while stopping: exiting now; a job cut short is recorded interrupted and resumed at the next start`);
        releasePid();
        process.exit(1);
      }
      stopping = true;
      const started = Date.now();
      logger.info({ signal: sig }, 'stopping');
      server.close().then(
        () => logger.info({ ms: Date.now() - started }, 'stopped'),
        (err: unknown) => {
          logger.error(`stopped with an error: ${errorMessage(err)}`);
          process.exitCode = 1;
        },
      ).finally(() => {
        for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, stop);
        process.off('SIGHUP', onHup);
        process.off('SIGUSR2', onUsr2);
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Everything autopull opened is closed now and the process ends when its event loop drains.
 * A handle left open (a timer, a socket) would keep a stopped server alive until systemd's
 * SIGKILL: this unref'd timer fires only in that case, names the handles, and exits.
 */
function exitIfStillRunning(logger: Logger): void {
  setTimeout(() => {
    logger.warn({ handles: process.getActiveResourcesInfo() }, `still running ${DRAIN_MS} ms after it stopped: exiting`);
    process.exit();
  }, DRAIN_MS).unref();
}
