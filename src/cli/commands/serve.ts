import { configPath, loadConfig } from '../../config/load.js';
import { startServer } from '../../daemon/start.js';
import { errorMessage } from '../../lib/errors.js';
import { createLogger, type Logger } from '../../lib/log.js';

/** How long a stopped server may wait for the event loop to drain before it exits anyway. */
const DRAIN_MS = 1000;

export async function serveCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfig(configPath(opts.config));
  const logger = createLogger();
  const server = await startServer(config, logger);
  console.error(`autopull listening on ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      const started = Date.now();
      logger.info({ signal: sig }, 'stopping');
      server.close().then(
        () => logger.info({ ms: Date.now() - started }, 'stopped'),
        (err: unknown) => {
          logger.error(`stopped with an error: ${errorMessage(err)}`);
          process.exitCode = 1;
        },
      ).finally(resolve);
    };
    // A second signal while stopping is not caught: its default action ends the process at once.
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  exitIfStillRunning(logger);
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
