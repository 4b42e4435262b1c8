import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';
import type { Store } from '../jobs/store.js';
import type { Logger } from '../lib/log.js';
import { AppError } from '../lib/errors.js';
import { sendAppError, sendError } from './reply.js';
import { hookRoutes, recordRejectedDelivery } from './routes/hooks.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { applyLimits, serverLimitOptions } from './limits.js';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Called after a transaction queued jobs for these repos. */
  kick(repo: string): void;
  /** Extra bearer tokens accepted by the API (the local token file). */
  apiTokens: string[];
  now?: () => Date;
}

/** Builds the HTTP app without listening: tests use `inject`, `serve` calls listen. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Deliveries are logged by the hooks route with their outcome; per-request lines add noise.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.body_limit,
    trustProxy: deps.config.trust_proxy,
    return503OnClosing: true,
    ...serverLimitOptions(deps.config.limits),
  });
  applyLimits(app, deps.config.limits, deps.logger);

  // Signatures cover the exact bytes received: every body stays a Buffer, parsed later.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) return sendAppError(reply, err);
    const status = err.statusCode ?? 500;
    if (status === 413) {
      const message = `body is larger than the limit of ${deps.config.body_limit} bytes (body_limit)`;
      if (req.url.startsWith('/hooks')) recordRejectedDelivery(deps, req, 413, 'body_too_large', message);
      return sendError(reply, 'body_too_large', message);
    }
    if (status === 415) return sendError(reply, 'unsupported_media_type', err.message);
    if (status >= 400 && status < 500) return sendError(reply, 'bad_request', err.message);
    req.log.error({ err }, 'internal error');
    return sendError(reply, 'internal', 'internal error in autopull; see its log');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));

  await app.register(healthRoutes);
  await app.register(hookRoutes, deps);
  await app.register(apiRoutes, deps);
  return app;
}
