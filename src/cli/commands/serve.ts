import { configPath, loadConfig } from '../../config/load.js';
import { startServer } from '../../daemon/start.js';
import { createLogger } from '../../lib/log.js';

export async function serveCommand(opts: { config?: string }): Promise<void> {
  const config = loadConfig(configPath(opts.config));
  const logger = createLogger();
  const server = await startServer(config, logger);
  console.error(`autopull listening on ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      logger.info({ signal: sig }, 'stopping');
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
